package io.kvhoard.server.store;

import java.util.List;

/**
 * A snapshot of the tiered store's counters (each read separately, so not one atomic cut).
 *
 * @param tiers per tier, hottest first
 * @param misses reads of a key no tier held
 * @param puts blocks the store took that it did not hold
 * @param duplicatePuts puts of a key already held with the same bytes (nothing written)
 * @param conflictingPuts puts of a key already held with other bytes (rejected: first writer wins)
 * @param deletes explicit removals of held blocks
 * @param directoryEntries blocks in the directory
 * @param directoryBytes off-heap bytes of the directory
 */
public record StoreStats(
    List<TierStats> tiers,
    long misses,
    long puts,
    long duplicatePuts,
    long conflictingPuts,
    long deletes,
    long directoryEntries,
    long directoryBytes) {
  public StoreStats {
    tiers = List.copyOf(tiers);
  }

  /**
   * One tier's figures.
   *
   * @param hits reads served from this tier
   * @param evictions blocks that left this tier to make room (demoted or dropped)
   * @param demotions of those, copied to the next colder tier
   * @param promotions blocks copied into this tier from a colder one after a hit there
   * @param readFailures reads that failed (medium error or checksum) and were treated as misses
   */
  public record TierStats(
      TierKind kind,
      long capacityBytes,
      long usedBytes,
      long blocks,
      long hits,
      long evictions,
      long demotions,
      long promotions,
      long readFailures) {}
}
