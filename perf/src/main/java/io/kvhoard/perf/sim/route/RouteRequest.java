package io.kvhoard.perf.sim.route;

/**
 * One request as a router sees it: its prefix keys (one per 512-token block of the trace; key i
 * names blocks 0 to i), its input length and its arrival time. The key array is shared: do not
 * modify it.
 *
 * @param blocks the request's block keys, first to last
 * @param inputTokens tokens in the prompt
 * @param arrivalSeconds arrival time on the simulation clock
 */
public record RouteRequest(long[] blocks, long inputTokens, double arrivalSeconds) {}
