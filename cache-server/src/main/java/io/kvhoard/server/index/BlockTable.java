package io.kvhoard.server.index;

import java.util.concurrent.atomic.LongAdder;

/**
 * The index's main table, off the Java heap: a multimap canonical block key → (lane, generation,
 * tiers, stamp), one 16-byte slot per (block, lane) entry, in {@link SlotSegment}s chosen by the
 * key's high bits. All entries of one key lie in one probe run, so a lookup reads one or two cache
 * lines and returns every lane that holds the block.
 *
 * <p>Design. The shape of llm-d kv-cache-manager's {@code kvblock.Index} (key → pod entries with a
 * device tier, fed by KV events) stored like Mooncake's and Chronicle's off-heap stores: fixed
 * slots in direct memory so tens of millions of entries cost the collector nothing. Capacity is
 * bounded in entries: a segment at its limit first reuses a dead entry met on the probe (a cleared
 * or expired lane's), else evicts, sampling 32 slots from a clock hand and dropping a dead one if
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
      int i = s.home(key);
      int reuse = -1;
      for (int n = 0; n < s.slots; n++) {
        long k = s.key(i);
        if (k == SlotSegment.EMPTY) {
          break;
        }
        long v = s.word(i, 1);
        if (lane(v) == lane && k == key) {
          int merged = gen(v) == gen ? tiers(v) | tiers : tiers;
          s.setWord(i, 1, value(lane, gen, merged, stamp));
          return;
        }
        if (reuse < 0 && !lanes.live(lane(v), gen(v))) {
          reuse = i;
        }
        i = s.next(i);
      }
      if (reuse >= 0) {
        s.setKey(reuse, key);
        s.setWord(reuse, 1, value(lane, gen, tiers, stamp));
        reclaimed.increment();
        return;
      }
      if (s.size >= maxPerSegment) {
        evictOne(s, stamp);
      }
      int free = s.freeSlotFor(key);
      s.setKey(free, key);
      s.setWord(free, 1, value(lane, gen, tiers, stamp));
      s.size = s.size + 1;
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
      for (int n = 0; n < s.slots; n++) {
        long k = s.key(i);
        if (k == SlotSegment.EMPTY) {
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
    int i = s.hand;
    for (int n = 0; n < s.slots && seen < SAMPLE; n++) {
      long k = s.key(i);
      if (k != SlotSegment.EMPTY) {
        seen++;
        long v = s.word(i, 1);
        if (!lanes.live(lane(v), gen(v))) {
          s.hand = i;
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
    s.hand = i;
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
    for (int n = 0; n < s.slots; n++) {
      long k = s.key(i);
      if (k == SlotSegment.EMPTY) {
        break;
      }
      if (k == key) {
        if (found == out.values.length) {
          out.grow();
        }
        out.values[found++] = s.word(i, 1);
      }
      i = s.next(i);
    }
    return found;
  }

  /**
   * Reads each key's home slot, so the lookups that follow find them in cache: the loads are
   * independent, so the processor overlaps their misses (group prefetching).
   */
  long touch(long[] keys, int from, int to) {
    long sink = 0;
    for (int j = from; j < to; j++) {
      long key = SlotSegment.nonEmpty(keys[j]);
      SlotSegment s = segment(key);
      sink ^= s.key(s.home(key));
    }
    return sink;
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
    long n = 0;
    for (SlotSegment s : segments) {
      n += s.bytes();
    }
    return n;
  }

  void release() {
    for (SlotSegment s : segments) {
      long lock = s.lock.writeLock();
      try {
        s.release();
      } finally {
        s.lock.unlockWrite(lock);
      }
    }
  }

  /** Per-thread scratch space of lookups. Not thread-safe. */
  static final class Scratch {
    long[] values = new long[16];

    void grow() {
      values = java.util.Arrays.copyOf(values, values.length * 2);
    }
  }
}
