package io.kvhoard.server.metrics;

import io.kvhoard.server.index.IndexStats;
import io.kvhoard.server.index.PrefixIndex;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The prefix index's figures as meters: entries, capacity, off-heap bytes, live pods, events by
 * outcome (applied, malformed, dropped), evictions, and the score latency timer the score APIs
 * record into ({@link #recordScore}). Index figures are read when scraped.
 *
 * <p>Thread-safe.
 */
public final class IndexMetrics {
  private final Timer score;

  public IndexMetrics(PrefixIndex index, MeterRegistry r) {
    gauge(r, index, "kvhoard.index.entries", "(block, pod) entries", s -> s.entries());
    gauge(r, index, "kvhoard.index.capacity", "(block, pod) entries at most", s -> s.capacity());
    gauge(r, index, "kvhoard.index.engine.entries", "engine-key map slots", s -> s.engineEntries());
    gauge(r, index, "kvhoard.index.bytes", "off-heap bytes", s -> s.offHeapBytes());
    gauge(r, index, "kvhoard.index.pods", "pods with an event within the TTL", s -> s.pods());
    counter(r, index, "applied", s -> s.eventsApplied());
    counter(r, index, "malformed", s -> s.eventsMalformed());
    counter(r, index, "dropped", s -> s.eventsDropped());
    FunctionCounter.builder("kvhoard.index.evictions", index, i -> i.stats().evictions())
        .description("Index entries evicted because the index was full")
        .register(r);
    score =
        Timer.builder("kvhoard.index.score")
            .description("Score latency: prompt keys, index match and ranking")
            .publishPercentiles(0.5, 0.99)
            .register(r);
  }

  /** Records one score query's duration. */
  public void recordScore(long nanos) {
    score.record(nanos, TimeUnit.NANOSECONDS);
  }

  private static void gauge(
      MeterRegistry r,
      PrefixIndex index,
      String name,
      String description,
      ToDoubleFunction<IndexStats> f) {
    Gauge.builder(name, index, i -> f.applyAsDouble(i.stats()))
        .description(description)
        .register(r);
  }

  private static void counter(
      MeterRegistry r, PrefixIndex index, String outcome, ToDoubleFunction<IndexStats> f) {
    FunctionCounter.builder("kvhoard.index.events", index, i -> f.applyAsDouble(i.stats()))
        .description("Block events by outcome")
        .tag("outcome", outcome)
        .register(r);
  }
}
