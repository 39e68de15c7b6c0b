/**
 * Trace-driven simulators. {@link io.kvhoard.perf.sim.HitRatioCommand} ({@code kvhoard-perf
 * hitratio}) replays a Mooncake request trace against the store's eviction policies ({@code
 * io.kvhoard.server.store.eviction}, the same classes the store runs), a plain LRU baseline and
 * Belady's offline optimum, after Caffeine's {@code simulator/}. {@link io.kvhoard.perf.sim.Trace}
 * is shared with the routing simulator in {@code sim.route}.
 */
package io.kvhoard.perf.sim;
