/**
 * kvhoard's measurements: {@link io.kvhoard.perf.PerfCommand} is the {@code kvhoard-perf.jar} entry
 * point; {@code bench} holds the JMH micro-benchmarks, {@code sim} the trace-driven simulators.
 * Every measurement runs the limit or peer it is compared with in the same run and prints the
 * ratio; results go to {@code perf/RESULTS.md}.
 */
package io.kvhoard.perf;
