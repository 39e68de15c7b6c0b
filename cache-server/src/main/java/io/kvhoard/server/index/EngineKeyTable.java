package io.kvhoard.server.index;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-lane map from a publisher's (engine's) block key to the canonical chain state after that
 * block, off the Java heap: what lets a later {@code BlockStored} continue a chain from its {@code
 * parent_key}, and a {@code BlockRemoved}, which carries only engine keys, find the canonical keys
 * to drop.
 *
 * <p>An entry is a main slot {@code [id, meta, chain]} and, when needed, continuation slots {@code
 * [mix(id, j), meta, value]}: the values are the canonical keys the engine block completed, but the
 * last (which equals {@code chain}), then the tokens after the last completed canonical block (the
 * partial canonical block an engine block smaller than, or not a multiple of, the index's block
 * size leaves). With equal block sizes (vLLM's 16 and the index's default 16) an entry is one
 * 24-byte slot. {@code id} is a 64-bit hash of (lane, engine key); a collision can cost a wrong
 * score, never a wrong byte (stored blocks are keyed by SHA-256).
 *
 * <p>Meta word: lane (16) | generation (16) | continuation (1) | tiers (3) | completed keys (8) |
 * partial tokens (8). Entries of a cleared lane are dead and reclaimed when met. When a segment is
 * full an entry is evicted (a dead one among 32 sampled from a random slot, else the first of
 * them); a later {@code BlockStored} whose parent was evicted is counted as an unknown parent.
 *
 * <p>Thread-safe per slot (segment write locks); the slots of one entry are written one after the
 * other, so events of one pod must come from one source at a time (as {@link BlockEventSink} says).
 */
final class EngineKeyTable {
  static final int MAX_COMPLETED = 255;
  static final int MAX_PARTIAL = 255;

  private static final int SAMPLE = 32;
  private static final long CONTINUATION = 1L << 31;

  private final SlotSegment[] segments;
  private final int maxPerSegment;
  private final int segmentShift;
  private final Lanes lanes;
  final LongAdder evicted = new LongAdder();

  EngineKeyTable(long capacity, int segmentBits, Lanes lanes) {
    int n = 1 << segmentBits;
    long per = Math.max(16, (capacity + n - 1) / n);
    long slots = (long) Math.ceil(per / BlockTable.MAX_LOAD) + 1;
    if (slots > SlotSegment.MAX_SLOTS) {
      throw new IllegalArgumentException(
          "engine key capacity " + capacity + " is too large for " + n + " segments");
    }
    this.maxPerSegment = (int) per;
    this.segments = new SlotSegment[n];
    for (int i = 0; i < n; i++) {
      segments[i] = new SlotSegment((int) slots, 3);
    }
    this.segmentShift = 64 - segmentBits;
    this.lanes = lanes;
  }

  private static long meta(int lane, int gen, boolean cont, int tiers, int completed, int partial) {
    return ((long) lane << 48)
        | ((long) gen << 32)
        | (cont ? CONTINUATION : 0)
        | ((long) tiers << 28)
        | ((long) completed << 20)
        | ((long) partial << 12);
  }

  private static int lane(long meta) {
    return (int) (meta >>> 48);
  }

  private static int gen(long meta) {
    return (int) (meta >>> 32) & 0xFFFF;
  }

  private static int tiers(long meta) {
    return (int) (meta >>> 28) & 7;
  }

  private static int completed(long meta) {
    return (int) (meta >>> 20) & 0xFF;
  }

  private static int partial(long meta) {
    return (int) (meta >>> 12) & 0xFF;
  }

  /** The id of continuation slot {@code j} (1-based) of an entry. */
  private static long continuation(long id, int j) {
    long z = id + j * 0x9E37_79B9_7F4A_7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
    return SlotSegment.nonEmpty(z ^ (z >>> 31));
  }

  private SlotSegment segment(long id) {
    return segments[segmentShift == 64 ? 0 : (int) (id >>> segmentShift)];
  }

  /**
   * Records the chain state after an engine block.
   *
   * @param completed canonical keys the block completed, the last of them {@code chain}
   * @param partial tokens after the last completed canonical block
   */
  void put(
      long id,
      int lane,
      int gen,
      int tiers,
      long chain,
      long[] completed,
      int completedCount,
      long[] partial,
      int partialCount) {
    id = SlotSegment.nonEmpty(id);
    int k = Math.min(completedCount, MAX_COMPLETED);
    int m = Math.min(partialCount, MAX_PARTIAL);
    writeSlot(id, meta(lane, gen, false, tiers, k, m), chain, true);
    int j = 1;
    for (int c = 0; c < k - 1; c++) {
      writeSlot(continuation(id, j++), meta(lane, gen, true, 0, 0, 0), completed[c], false);
    }
    for (int p = 0; p < m; p++) {
      writeSlot(continuation(id, j++), meta(lane, gen, true, 0, 0, 0), partial[p], false);
    }
  }

  /**
   * Writes a slot. A main slot replacing a live one of the same generation keeps its tiers too (the
   * same engine block stored again on another tier).
   */
  private void writeSlot(long id, long meta, long value, boolean main) {
    SlotSegment s = segment(id);
    int lane = lane(meta);
    long lock = s.lock.writeLock();
    try {
      int i = find(s, id, lane);
      if (i < 0) {
        if (s.size >= maxPerSegment) {
          evictOne(s);
        }
        i = s.freeSlotFor(id);
        s.setKey(i, id);
        s.size = s.size + 1;
      } else if (main) {
        long old = s.word(i, 1);
        if (gen(old) == gen(meta) && lanes.live(lane, gen(old))) {
          meta |= (long) tiers(old) << 28;
        }
      }
      s.setWord(i, 1, meta);
      s.setWord(i, 2, value);
    } finally {
      s.lock.unlockWrite(lock);
    }
  }

  private static int find(SlotSegment s, long id, int lane) {
    int i = s.home(id);
    for (int n = 0; n < s.slots; n++) {
      long k = s.key(i);
      if (k == SlotSegment.EMPTY) {
        return -1;
      }
      if (k == id && lane(s.word(i, 1)) == lane) {
        return i;
      }
      i = s.next(i);
    }
    return -1;
  }

  private void evictOne(SlotSegment s) {
    int first = -1;
    int seen = 0;
    int i = s.nextHand();
    for (int n = 0; n < s.slots && seen < SAMPLE; n++) {
      long k = s.key(i);
      if (k != SlotSegment.EMPTY) {
        seen++;
        long meta = s.word(i, 1);
        if (!lanes.live(lane(meta), gen(meta))) {
          s.deleteAt(i);
          return;
        }
        if (first < 0) {
          first = i;
        }
      }
      i = s.next(i);
    }
    if (first >= 0) {
      s.deleteAt(first);
      evicted.increment();
    }
  }

  /** Reads one slot's value into {@code out[0]} if it is a live slot of the lane and generation. */
  private boolean readSlot(long id, int lane, int gen, long[] out, boolean main) {
    SlotSegment s = segment(id);
    long lock = s.lock.readLock();
    try {
      int i = find(s, id, lane);
      if (i < 0) {
        return false;
      }
      long meta = s.word(i, 1);
      if (gen(meta) != gen || !lanes.live(lane, gen) || ((meta & CONTINUATION) != 0) == main) {
        return false;
      }
      out[0] = s.word(i, 2);
      out[1] = meta;
      return true;
    } finally {
      s.lock.unlockRead(lock);
    }
  }

  /**
   * Reads an entry into {@code out}.
   *
   * @return false if the lane has no live, complete entry for {@code id}
   */
  boolean get(long id, int lane, int gen, State out) {
    id = SlotSegment.nonEmpty(id);
    long[] cell = out.cell;
    if (!readSlot(id, lane, gen, cell, true)) {
      return false;
    }
    out.chain = cell[0];
    long meta = cell[1];
    out.tiers = tiers(meta);
    int k = completed(meta);
    int m = partial(meta);
    out.ensure(k, m);
    int j = 1;
    for (int c = 0; c < k - 1; c++) {
      if (!readSlot(continuation(id, j++), lane, gen, cell, false)) {
        return false;
      }
      out.completed[c] = cell[0];
    }
    if (k > 0) {
      out.completed[k - 1] = out.chain;
    }
    for (int p = 0; p < m; p++) {
      if (!readSlot(continuation(id, j++), lane, gen, cell, false)) {
        return false;
      }
      out.partial[p] = cell[0];
    }
    out.completedCount = k;
    out.partialCount = m;
    return true;
  }

  /**
   * Drops {@code tiers} from the entry; removes the entry (and its continuations) when no tier is
   * left. {@code out} receives the entry as {@link #get} reads it.
   *
   * @return false if there was no live, complete entry
   */
  boolean remove(long id, int lane, int gen, int tiers, State out) {
    id = SlotSegment.nonEmpty(id);
    if (!get(id, lane, gen, out)) {
      return false;
    }
    int left = out.tiers & ~tiers;
    int slots = 1 + Math.max(0, out.completedCount - 1) + out.partialCount;
    SlotSegment main = segment(id);
    long lock = main.lock.writeLock();
    try {
      int i = find(main, id, lane);
      if (i >= 0) {
        if (left == 0) {
          main.deleteAt(i);
        } else {
          long v = main.word(i, 1);
          main.setWord(i, 1, (v & ~(7L << 28)) | ((long) left << 28));
        }
      }
    } finally {
      main.lock.unlockWrite(lock);
    }
    if (left == 0) {
      for (int j = 1; j < slots; j++) {
        long cid = continuation(id, j);
        SlotSegment s = segment(cid);
        long l = s.lock.writeLock();
        try {
          int i = find(s, cid, lane);
          if (i >= 0) {
            s.deleteAt(i);
          }
        } finally {
          s.lock.unlockWrite(l);
        }
      }
    }
    return true;
  }

  long size() {
    long n = 0;
    for (SlotSegment s : segments) {
      n += s.size;
    }
    return n;
  }

  long bytes() {
    return SlotSegment.bytes(segments);
  }

  void release() {
    SlotSegment.releaseAll(segments);
  }

  /** An entry as read. Not thread-safe: one per thread. */
  static final class State {
    long chain;
    int tiers;
    long[] completed = new long[4];
    int completedCount;
    long[] partial = new long[16];
    int partialCount;
    final long[] cell = new long[2];

    void ensure(int k, int m) {
      if (completed.length < k) {
        completed = Arrays.copyOf(completed, k);
      }
      if (partial.length < m) {
        partial = Arrays.copyOf(partial, m);
      }
    }
  }
}
