package io.kvhoard.server.metrics;

import io.kvhoard.server.store.StoreStats;
import io.kvhoard.server.store.Tier;
import io.kvhoard.server.store.TierKind;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.disk.DiskTier;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The tiered store's figures as meters: per tier capacity, occupancy, blocks, hits, evictions,
 * demotions, promotions and read failures; store-wide misses, puts, duplicate and conflicting puts,
 * deletes, directory size and checksum failures. Read from {@link TieredStore#stats()} when
 * scraped, so they cost nothing between scrapes.
 */
public final class StoreMetrics implements MeterBinder {
  private final TieredStore store;

  public StoreMetrics(TieredStore store) {
    this.store = store;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    for (Tier t : store.tiers()) {
      TierKind kind = t.kind();
      String tier = kind.name().toLowerCase(Locale.ROOT);
      tierGauge(r, "kvhoard.tier.capacity", "bytes", tier, s -> tierOf(s, kind).capacityBytes());
      tierGauge(r, "kvhoard.tier.used", "bytes", tier, s -> tierOf(s, kind).usedBytes());
      tierGauge(r, "kvhoard.tier.blocks", "blocks", tier, s -> tierOf(s, kind).blocks());
      tierCounter(r, "kvhoard.tier.hits", tier, s -> tierOf(s, kind).hits());
      tierCounter(r, "kvhoard.tier.evictions", tier, s -> tierOf(s, kind).evictions());
      tierCounter(r, "kvhoard.tier.demotions", tier, s -> tierOf(s, kind).demotions());
      tierCounter(r, "kvhoard.tier.promotions", tier, s -> tierOf(s, kind).promotions());
      tierCounter(r, "kvhoard.tier.read.failures", tier, s -> tierOf(s, kind).readFailures());
      if (t instanceof DiskTier d) {
        FunctionCounter.builder("kvhoard.tier.checksum.failures", d, DiskTier::checksumFailures)
            .description("Blocks that failed their CRC32C check and were dropped")
            .tag("tier", tier)
            .register(r);
      }
    }
    counter(r, "kvhoard.store.misses", s -> s.misses());
    counter(r, "kvhoard.store.puts", s -> s.puts());
    counter(r, "kvhoard.store.puts.duplicate", s -> s.duplicatePuts());
    counter(r, "kvhoard.store.puts.conflicting", s -> s.conflictingPuts());
    counter(r, "kvhoard.store.deletes", s -> s.deletes());
    Gauge.builder("kvhoard.directory.entries", store, st -> st.stats().directoryEntries())
        .register(r);
    Gauge.builder("kvhoard.directory.bytes", store, st -> st.stats().directoryBytes())
        .baseUnit("bytes")
        .register(r);
  }

  private static StoreStats.TierStats tierOf(StoreStats s, TierKind kind) {
    for (StoreStats.TierStats t : s.tiers()) {
      if (t.kind() == kind) {
        return t;
      }
    }
    throw new IllegalStateException("no " + kind + " tier");
  }

  private void tierGauge(
      MeterRegistry r, String name, String unit, String tier, ToDoubleFunction<StoreStats> f) {
    Gauge.builder(name, store, st -> f.applyAsDouble(st.stats()))
        .baseUnit(unit)
        .tag("tier", tier)
        .register(r);
  }

  private void tierCounter(
      MeterRegistry r, String name, String tier, ToDoubleFunction<StoreStats> f) {
    FunctionCounter.builder(name, store, st -> f.applyAsDouble(st.stats()))
        .tag("tier", tier)
        .register(r);
  }

  private void counter(MeterRegistry r, String name, ToDoubleFunction<StoreStats> f) {
    FunctionCounter.builder(name, store, st -> f.applyAsDouble(st.stats())).register(r);
  }
}
