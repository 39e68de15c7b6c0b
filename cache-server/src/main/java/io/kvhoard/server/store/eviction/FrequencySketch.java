package io.kvhoard.server.store.eviction;

import java.util.Arrays;

/**
 * Approximate recent access counts for TinyLFU admission (Einziger, Friedman and Manes, "TinyLFU: A
 * Highly Efficient Cache Admission Policy", ACM ToS 2017; the layout follows Caffeine's {@code
 * FrequencySketch}).
 *
 * <ul>
 *   <li>A count-min sketch of 4-bit counters (saturating at 15), four rows of a power-of-two width
 *       at least the cache's capacity, indexed by double hashing; an increment raises only the
 *       smallest of a key's counters (conservative update), which keeps estimates tighter.
 *   <li>A doorkeeper: a Bloom filter that absorbs each key's first access in a period, so the many
 *       keys seen once never reach the counters.
 *   <li>Aging: after ten accesses per cache entry, every counter is halved and the doorkeeper
 *       cleared, so the estimate follows recent popularity.
 * </ul>
 *
 * <p>An estimate is never below the true count of the current period (up to the saturation and
 * aging). Not thread-safe.
 */
final class FrequencySketch {
  static final int MAX = 15;
  private static final long HALF_MASK = 0x7777_7777_7777_7777L;

  private final long[] counters;
  private final int rowMask;
  private final long[] doorkeeper;
  private final int doorMask;
  private final long samplePeriod;
  private long additions;

  /** Sized for a cache of {@code capacity} entries. */
  FrequencySketch(long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, was " + capacity);
    }
    int width = powerOfTwoAtLeast(Math.max(16, capacity), 1 << 26);
    this.rowMask = width - 1;
    this.counters = new long[width / 4]; // 4 rows x width counters x 4 bits / 64 bits
    int doorBits = powerOfTwoAtLeast(Math.max(1024, 64 * capacity), 1 << 30);
    this.doorMask = doorBits - 1;
    this.doorkeeper = new long[doorBits / 64];
    this.samplePeriod = 10 * capacity;
  }

  /** Records one access of a key with this hash code. */
  void increment(int hashCode) {
    long h = mix(hashCode);
    int h1 = (int) h;
    int h2 = (int) (h >>> 32) | 1;
    if (setDoorkeeper(h1, h2)) {
      int min = MAX;
      for (int i = 0; i < 4; i++) {
        min = Math.min(min, counter(index(h1, h2, i)));
      }
      if (min < MAX) {
        for (int i = 0; i < 4; i++) {
          int idx = index(h1, h2, i);
          if (counter(idx) == min) {
            counters[idx >>> 4] += 1L << ((idx & 15) << 2);
          }
        }
      }
    }
    if (++additions >= samplePeriod) {
      age();
    }
  }

  /** The estimated number of recent accesses of a key with this hash code, 0 to 16. */
  int frequency(int hashCode) {
    long h = mix(hashCode);
    int h1 = (int) h;
    int h2 = (int) (h >>> 32) | 1;
    int min = MAX;
    for (int i = 0; i < 4; i++) {
      min = Math.min(min, counter(index(h1, h2, i)));
    }
    return min + (inDoorkeeper(h1, h2) ? 1 : 0);
  }

  private void age() {
    for (int i = 0; i < counters.length; i++) {
      counters[i] = (counters[i] >>> 1) & HALF_MASK;
    }
    Arrays.fill(doorkeeper, 0L);
    additions /= 2;
  }

  private int index(int h1, int h2, int row) {
    return row * (rowMask + 1) + ((h1 + row * h2) & rowMask);
  }

  private int counter(int idx) {
    return (int) (counters[idx >>> 4] >>> ((idx & 15) << 2)) & 0xF;
  }

  /** Sets the key's doorkeeper bits; true if they were all set already. */
  private boolean setDoorkeeper(int h1, int h2) {
    boolean present = true;
    for (int i = 4; i < 6; i++) {
      int bit = (h1 + i * h2) & doorMask;
      long mask = 1L << bit;
      present &= (doorkeeper[bit >>> 6] & mask) != 0;
      doorkeeper[bit >>> 6] |= mask;
    }
    return present;
  }

  private boolean inDoorkeeper(int h1, int h2) {
    for (int i = 4; i < 6; i++) {
      int bit = (h1 + i * h2) & doorMask;
      if ((doorkeeper[bit >>> 6] & (1L << bit)) == 0) {
        return false;
      }
    }
    return true;
  }

  private static long mix(int hashCode) {
    long z = hashCode * 0x9E37_79B9_7F4A_7C15L;
    z = (z ^ (z >>> 33)) * 0xFF51_AFD7_ED55_8CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CE_B9FE_1A85_EC53L;
    return z ^ (z >>> 33);
  }

  private static int powerOfTwoAtLeast(long n, int max) {
    return (int) Math.min(max, Long.highestOneBit(n - 1) << 1);
  }
}
