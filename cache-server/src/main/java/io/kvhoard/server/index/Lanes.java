package io.kvhoard.server.index;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The liveness of lanes: a lane is one (namespace, pod) pair, named by a 16-bit id that every index
 * entry carries with the lane's 16-bit generation. An entry is live while its lane is active and
 * still has the entry's generation; clearing a lane (a {@code Cleared} event, an expired pod) bumps
 * the generation, which kills all its entries at once, and the tables reclaim them lazily when they
 * meet them. Ids of retired lanes are reused with their next generation.
 *
 * <p>Thread-safe: {@link #live} is a volatile read; the other methods are called under the index's
 * registry lock.
 */
final class Lanes {
  /** Lane ids are 16 bits in an entry. */
  static final int MAX_LANES = 1 << 16;

  private static final int ACTIVE = 1 << 31;
  private static final int GEN_MASK = 0xFFFF;

  /** Per lane: ACTIVE bit | generation. */
  private final AtomicIntegerArray state = new AtomicIntegerArray(MAX_LANES);

  private final int[] free = new int[MAX_LANES];
  private int freeCount;
  private int nextUnused;

  /** Whether an entry of {@code lane} written with {@code gen} is live. */
  boolean live(int lane, int gen) {
    return state.get(lane) == (ACTIVE | gen);
  }

  /** The lane's current generation (what new entries carry). */
  int generation(int lane) {
    return state.get(lane) & GEN_MASK;
  }

  /** A fresh active lane id, or -1 if all {@link #MAX_LANES} are in use. */
  int open() {
    int id;
    if (freeCount > 0) {
      id = free[--freeCount];
    } else if (nextUnused < MAX_LANES) {
      id = nextUnused++;
    } else {
      return -1;
    }
    int gen = (state.get(id) + 1) & GEN_MASK;
    state.set(id, ACTIVE | gen);
    return id;
  }

  /** Kills every entry of the lane; the lane stays open with a new generation. */
  void clear(int lane) {
    int gen = (state.get(lane) + 1) & GEN_MASK;
    state.set(lane, ACTIVE | gen);
  }

  /** Kills every entry of the lane and frees its id. */
  void retire(int lane) {
    int gen = (state.get(lane) + 1) & GEN_MASK;
    state.set(lane, gen);
    free[freeCount++] = lane;
  }

  /** Lanes open now. */
  int openCount() {
    return nextUnused - freeCount;
  }
}
