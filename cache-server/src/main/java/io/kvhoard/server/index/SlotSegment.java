package io.kvhoard.server.index;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.StampedLock;

/**
 * One segment of an off-heap open-addressing table: {@code slots} slots of {@code words} longs in
 * one direct buffer, linear probing from a home slot chosen by the key, word 0 the key ({@link
 * #EMPTY} marks a free slot), deletion by backward shift (no tombstones), so a probe for a key
 * stops at the first free slot. Several slots may hold the same key (the block table is a
 * multimap); they then lie in one run of that key's probe sequence.
 *
 * <p>Design: Knuth's linear probing with backward-shift deletion (TAOCP vol. 3, 6.4, algorithm R),
 * which keeps a run ordered by home slot if insertions do ({@link #insertAt}: Celis's Robin Hood
 * hashing, 1986; the block table uses it so a lookup stops at the first slot homed after its key),
 * Lemire's multiply-shift range reduction for the home slot ("A fast alternative to the modulo
 * reduction", 2016) so a segment holds exactly the slots its capacity needs rather than a power of
 * two, and a {@link StampedLock} per segment: writers take the write lock, readers read
 * optimistically and validate, retrying under the read lock (the pattern of the StampedLock
 * javadoc).
 *
 * <p>Thread safety: the methods here are not synchronized; callers hold {@link #lock} for writing
 * to modify, and read either under the read lock or optimistically with validation.
 */
final class SlotSegment {
  /** The key of a free slot; callers never store it (see {@link #nonEmpty}). */
  static final long EMPTY = 0L;

  /** The largest number of slots of one segment: a direct buffer addresses at most 2 GiB. */
  static final int MAX_SLOTS = 1 << 26;

  final StampedLock lock = new StampedLock();
  final int slots;
  final int words;
  private final int slotBytes;
  private ByteBuffer buf;

  /** Occupied slots; guarded by the write lock, read racily for statistics. */
  volatile int size;

  /** State of {@link #nextHand}; guarded by the write lock. */
  private long handState = 0x9E37_79B9_7F4A_7C15L;

  SlotSegment(int slots, int words) {
    if (slots < 2 || slots > MAX_SLOTS) {
      throw new IllegalArgumentException("slots per segment must be in [2, " + MAX_SLOTS + "]");
    }
    this.slots = slots;
    this.words = words;
    this.slotBytes = words * Long.BYTES;
    this.buf = ByteBuffer.allocateDirect(slots * slotBytes).order(ByteOrder.nativeOrder());
  }

  /** A key callers may store: {@link #EMPTY} is remapped to another fixed value. */
  static long nonEmpty(long key) {
    return key == EMPTY ? 0x9E37_79B9_7F4A_7C15L : key;
  }

  /** The key's home slot (the low 32 bits of the key reduced to [0, slots)). */
  int home(long key) {
    return (int) (((key & 0xFFFF_FFFFL) * slots) >>> 32);
  }

  int next(int i) {
    int n = i + 1;
    return n == slots ? 0 : n;
  }

  long key(int i) {
    return buf.getLong(i * slotBytes);
  }

  long word(int i, int w) {
    return buf.getLong(i * slotBytes + w * Long.BYTES);
  }

  void setKey(int i, long key) {
    buf.putLong(i * slotBytes, key);
  }

  void setWord(int i, int w, long value) {
    buf.putLong(i * slotBytes + w * Long.BYTES, value);
  }

  /** Frees slot {@code i} and shifts the rest of its run back so no probe crosses a hole. */
  void deleteAt(int i) {
    int hole = i;
    int j = next(i);
    for (int n = 0; n < slots; n++) {
      long k = key(j);
      if (k == EMPTY) {
        break;
      }
      int h = home(k);
      boolean reachable = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (!reachable) {
        for (int w = 0; w < words; w++) {
          setWord(hole, w, word(j, w));
        }
        hole = j;
      }
      j = next(j);
    }
    setKey(hole, EMPTY);
    size = size - 1;
  }

  /**
   * A random slot where an eviction sample starts (xorshift64, Marsaglia 2003). Random, not a clock
   * hand: a hand that frees the slots it passes leaves the table dense just ahead of it, and linear
   * probing's runs there grow to thousands of slots (measured: applying events to a full index fell
   * from 0.5M to 0.03M blocks/s).
   */
  int nextHand() {
    long x = handState;
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    handState = x;
    return (int) (((x >>> 32) * slots) >>> 32);
  }

  /** How far slot {@code i} is from the home slot of the key it holds. */
  int distance(int i, long key) {
    int d = i - home(key);
    return d < 0 ? d + slots : d;
  }

  /**
   * Stores {@code key} at slot {@code i} after moving the slots from {@code i} to the end of its
   * run one slot on (the run must not fill the segment): Robin Hood insertion, which keeps a run
   * ordered by home slot. Word 1 and beyond of the new slot are left for the caller.
   */
  void insertAt(int i, long key) {
    int end = i;
    while (key(end) != EMPTY) {
      end = next(end);
    }
    while (end != i) {
      int prev = end == 0 ? slots - 1 : end - 1;
      for (int w = 0; w < words; w++) {
        setWord(end, w, word(prev, w));
      }
      end = prev;
    }
    setKey(i, key);
    size = size + 1;
  }

  /** The first free slot of the key's probe sequence. The segment must not be full. */
  int freeSlotFor(long key) {
    int i = home(key);
    while (key(i) != EMPTY) {
      i = next(i);
    }
    return i;
  }

  /** Bytes of off-heap memory this segment holds. */
  long bytes() {
    return (long) slots * slotBytes;
  }

  /** Drops the buffer; the memory is returned when the buffer is collected. */
  void release() {
    buf = ByteBuffer.allocateDirect(0);
  }

  /** Off-heap bytes of {@code segments}. */
  static long bytes(SlotSegment[] segments) {
    long n = 0;
    for (SlotSegment s : segments) {
      n += s.bytes();
    }
    return n;
  }

  /** Releases every segment's memory, each under its write lock. */
  static void releaseAll(SlotSegment[] segments) {
    for (SlotSegment s : segments) {
      long lock = s.lock.writeLock();
      try {
        s.release();
      } finally {
        s.lock.unlockWrite(lock);
      }
    }
  }
}
