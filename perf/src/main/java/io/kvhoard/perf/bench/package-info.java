/**
 * JMH micro-benchmarks ({@code *Benchmark}) and {@link io.kvhoard.perf.bench.MicroCommand}, which
 * runs them and prints each of our methods against its class's {@code baseline*} method (the
 * physical limit or the peer) with the ratio.
 */
package io.kvhoard.perf.bench;
