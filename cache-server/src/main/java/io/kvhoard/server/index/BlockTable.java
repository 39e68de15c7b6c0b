package io.kvhoard.server.index;

import java.util.concurrent.atomic.LongAdder;

/**
 * The index's main table, off the Java heap: a multimap canonical block key → (lane, generation,
 * tiers, stamp), one 16-byte slot per (block, lane) entry, in {@link SlotSegment}s chosen by the
 * key's high bits. Runs are kept in home-slot order (Robin Hood insertion), so the entries of one
 * key lie together after the few slots displaced from earlier homes, and a lookup stops at the
 * first slot homed after its key, one or two cache lines, and returns every lane that holds the
 * block. Plain linear probing scanned on to the end of the cluster, which a block many pods hold
 * (its entries appended at a cluster's end, joining it to the next) makes long: 31 slots per lookup
 * of a long prompt at 0.68 load, against 5 expected for a table of distinct keys.
 *
 * <p>Design. The shape of llm-d kv-cache-manager's {@code kvblock.Index} (key → pod entries with a
 * device tier, fed by KV events) stored like Mooncake's and Chronicle's off-heap stores: fixed
 * slots in direct memory so tens of millions of entries cost the collector nothing. Capacity is
 * bounded in entries: a segment at its limit first reuses a dead entry met on the probe (a cleared
 * or expired lane's), else evicts, sampling 32 slots from a random one and dropping a dead one if
 * found, else the one stored longest ago (Redis's sampled approximate LRU). The stamp is a per
 * segment 29-bit insertion counter compared modulo 2^29. Tier bits merge: one slot says the lane
 * holds the block on GPU and host, as vLLM's offloading emits one {@code BlockStored} per medium.
 *
 * <p>Value word: lane (16 bits) | generation (16) | tiers (3: GPU 1, host 2, disk 4) | stamp (29).
 *
 * <p>Thread-safe: writers lock the key's segment; {@link #get} reads optimistically.
 */
final class BlockTable {
  static final int TIER_GPU = 1;
  static final int TIER_HOST = 2;
  static final int TIER_DISK = 4;
  static final int ALL_TIERS = 7;

  private static final int STAMP_BITS = 29;
  private static final int STAMP_MASK = (1 << STAMP_BITS) - 1;
  private static final int SAMPLE = 32;

  /** Entries per slot at the capacity limit. */
  static final double MAX_LOAD = 0.75;

  private final SlotSegment[] segments;
  private final int[] stamps;
  private final int maxPerSegment;
  private final int segmentShift;
  private final Lanes lanes;
  final LongAdder evicted = new LongAdder();
  final LongAdder reclaimed = new LongAdder();

  /**
   * @param capacity the most entries held; more evict the oldest
   * @param segmentBits log2 of the number of segments
   */
  BlockTable(long capacity, int segmentBits, Lanes lanes) {
    int n = 1 << segmentBits;
    long per = Math.max(16, (capacity + n - 1) / n);
    long slots = (long) Math.ceil(per / MAX_LOAD) + 1;
    if (slots > SlotSegment.MAX_SLOTS) {
      throw new IllegalArgumentException(
          "index capacity " + capacity + " is too large for " + n + " segments");
    }
    this.maxPerSegment = (int) per;
    this.segments = new SlotSegment[n];
    this.stamps = new int[n];
    for (int i = 0; i < n; i++) {
      segments[i] = new SlotSegment((int) slots, 2);
    }
    this.segmentShift = 64 - segmentBits;
    this.lanes = lanes;
  }

  static long value(int lane, int gen, int tiers, int stamp) {
    return ((long) lane << 48) | ((long) gen << 32) | ((long) tiers << STAMP_BITS) | stamp;
  }

  static int lane(long value) {
    return (int) (value >>> 48);
  }

  static int gen(long value) {
    return (int) (value >>> 32) & 0xFFFF;
  }

  static int tiers(long value) {
    return (int) (value >>> STAMP_BITS) & 7;
  }

  private SlotSegment segment(long key) {
    return segments[segmentShift == 64 ? 0 : (int) (key >>> segmentShift)];
  }

  private int segmentIndex(long key) {
    return segmentShift == 64 ? 0 : (int) (key >>> segmentShift);
  }

  /** Records that {@code lane} (generation {@code gen}) holds {@code key} on {@code tiers}. */
  void put(long key, int lane, int gen, int tiers) {
    key = SlotSegment.nonEmpty(key);
    int si = segmentIndex(key);
    SlotSegment s = segments[si];
    long lock = s.lock.writeLock();
    try {
      int stamp = stamps[si] = (stamps[si] + 1) & STAMP_MASK;
      int h = s.home(key);
      probe:
      while (true) {
        int i = h;
        for (int d = 0; d < s.slots; d++, i = s.next(i)) {
          long k = s.key(i);
          if (k != SlotSegment.EMPTY) {
            long v = s.word(i, 1);
            if (k == key && lane(v) == lane) {
              int merged = gen(v) == gen ? tiers(v) | tiers : tiers;
              s.setWord(i, 1, value(lane, gen, merged, stamp));
              return;
            }
            if (!lanes.live(lane(v), gen(v))) {
              s.deleteAt(i); // a dead entry met on the way: reclaim it and look again
              reclaimed.increment();
              continue probe;
            }
            if (k == key || s.distance(i, k) >= d) {
              continue; // the key's own run, or slots homed at or before its home
            }
          }
          // slot i is free or homed after the key: the key goes here, in home order
          if (s.size >= maxPerSegment) {
            evictOne(s, stamp);
            continue probe;
          }
          s.insertAt(i, key);
          s.setWord(i, 1, value(lane, gen, tiers, stamp));
          return;
        }
        throw new IllegalStateException("a full block table segment"); // size < slots always
      }
    } finally {
      s.lock.unlockWrite(lock);
    }
  }

  /** Removes {@code tiers} from {@code lane}'s entry of {@code key}; drops it when none is left. */
  void remove(long key, int lane, int tiers) {
    key = SlotSegment.nonEmpty(key);
    SlotSegment s = segment(key);
    long lock = s.lock.writeLock();
    try {
      int i = s.home(key);
      for (int d = 0; d < s.slots; d++) {
        long k = s.key(i);
        if (k == SlotSegment.EMPTY || (k != key && s.distance(i, k) < d)) {
          return;
        }
        long v = s.word(i, 1);
        if (k == key && lane(v) == lane) {
          int left = tiers(v) & ~tiers;
          if (left == 0 || !lanes.live(lane, gen(v))) {
            s.deleteAt(i);
          } else {
            s.setWord(i, 1, (v & ~(7L << STAMP_BITS)) | ((long) left << STAMP_BITS));
          }
          return;
        }
        i = s.next(i);
      }
    } finally {
      s.lock.unlockWrite(lock);
    }
  }

  private void evictOne(SlotSegment s, int now) {
    int oldest = -1;
    int oldestAge = -1;
    int seen = 0;
    int i = s.nextHand();
    for (int n = 0; n < s.slots && seen < SAMPLE; n++) {
      long k = s.key(i);
      if (k != SlotSegment.EMPTY) {
        seen++;
        long v = s.word(i, 1);
        if (!lanes.live(lane(v), gen(v))) {
          s.deleteAt(i);
          reclaimed.increment();
          return;
        }
        int age = (now - (int) (v & STAMP_MASK)) & STAMP_MASK;
        if (age > oldestAge) {
          oldestAge = age;
          oldest = i;
        }
      }
      i = s.next(i);
    }
    if (oldest >= 0) {
      s.deleteAt(oldest);
      evicted.increment();
    }
  }

  /**
   * Reads the value words of every entry of {@code key} (live or not) into {@code out}; lock-free
   * unless a writer interferes.
   *
   * @return the number of values, possibly growing {@code out.values}
   */
  int get(long key, Scratch out) {
    key = SlotSegment.nonEmpty(key);
    SlotSegment s = segment(key);
    long stamp = s.lock.tryOptimisticRead();
    if (stamp != 0) {
      int n = scan(s, key, out);
      if (s.lock.validate(stamp)) {
        return n;
      }
    }
    stamp = s.lock.readLock();
    try {
      return scan(s, key, out);
    } finally {
      s.lock.unlockRead(stamp);
    }
  }

  private static int scan(SlotSegment s, long key, Scratch out) {
    int i = s.home(key);
    int found = 0;
    for (int d = 0; d < s.slots; d++) {
      long k = s.key(i);
      if (k == key) {
        if (found == out.values.length) {
          out.grow();
        }
        out.values[found++] = s.word(i, 1);
      } else if (k == SlotSegment.EMPTY || s.distance(i, k) < d) {
        break; // runs are in home order: no entry of the key lies further on
      }
      i = s.next(i);
    }
    return found;
  }

  /**
   * Reads the key's home slot and returns its word, so a lookup of the key soon after finds it in
   * cache: callers touch a group of keys first, independent loads whose misses the processor
   * overlaps (group prefetching), then look them up.
   */
  long touch(long key) {
    key = SlotSegment.nonEmpty(key);
    SlotSegment s = segment(key);
    return s.key(s.home(key));
  }

  /** Occupied slots (live and dead entries not yet reclaimed). */
  long size() {
    long n = 0;
    for (SlotSegment s : segments) {
      n += s.size;
    }
    return n;
  }

  /** The most entries the table holds. */
  long capacity() {
    return (long) maxPerSegment * segments.length;
  }

  /** Off-heap bytes allocated. */
  long bytes() {
    return SlotSegment.bytes(segments);
  }

  void release() {
    SlotSegment.releaseAll(segments);
  }

  /** Per-thread scratch space of lookups. Not thread-safe. */
  static final class Scratch {
    long[] values = new long[16];

    void grow() {
      values = java.util.Arrays.copyOf(values, values.length * 2);
    }
  }
}
