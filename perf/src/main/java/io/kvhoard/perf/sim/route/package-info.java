/**
 * The routing simulator of issue 6 ({@code kvhoard-perf routesim}): a Mooncake trace replayed
 * against N simulated model-server pods, each with an LRU GPU KV cache and a FIFO queue, routed by
 * a {@link io.kvhoard.perf.sim.route.Router}. {@link io.kvhoard.perf.sim.route.RouteSimulation} is
 * the engine, {@link io.kvhoard.perf.sim.route.Routers} the baseline routers, {@link
 * io.kvhoard.perf.sim.route.PodEvents} the block events the pods publish (what a router built on
 * the kvhoard index consumes).
 */
package io.kvhoard.perf.sim.route;
