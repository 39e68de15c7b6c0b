package io.kvhoard.perf.sim;

import java.util.HashMap;
import java.util.Map;

/**
 * The future of a trace, for the offline policies: its block references in replay order (request by
 * request, first block to last), each with the position of the same block's next reference. An
 * offline policy follows the replay with {@link #advance} and fails if it is driven out of step.
 */
final class FutureUses {
  /** The next use of a block that is never used again. */
  static final int NEVER = Integer.MAX_VALUE;

  private final long[] keys;
  private final int[] nextUse;
  private final int[] depth;
  private int cursor;

  FutureUses(Trace trace) {
    if (trace.totalBlocks() >= NEVER) {
      throw new IllegalArgumentException("trace too long: " + trace.totalBlocks() + " blocks");
    }
    int total = (int) trace.totalBlocks();
    keys = new long[total];
    depth = new int[total];
    nextUse = new int[total];
    int p = 0;
    for (int r = 0; r < trace.requests(); r++) {
      long[] ids = trace.blocks(r);
      for (int i = 0; i < ids.length; i++, p++) {
        keys[p] = ids[i];
        depth[p] = i;
      }
    }
    Map<Long, Integer> later = new HashMap<>();
    for (p = total - 1; p >= 0; p--) {
      Integer next = later.put(keys[p], p);
      nextUse[p] = next == null ? NEVER : next;
    }
  }

  /**
   * Consumes the next reference, which must be to {@code key}; returns its position.
   *
   * @throws IllegalStateException if the replay referenced another block
   */
  int advance(long key) {
    if (cursor >= keys.length || keys[cursor] != key) {
      throw new IllegalStateException(
          "offline policy out of step with the replay at reference "
              + cursor
              + ": got block "
              + key
              + (cursor < keys.length ? ", expected " + keys[cursor] : ", past the end"));
    }
    return cursor++;
  }

  /** Position of the next reference to the block referenced at {@code position}, or NEVER. */
  int nextUse(int position) {
    return nextUse[position];
  }

  /** The block's index in its request at {@code position}: 0 for a first block. */
  int depth(int position) {
    return depth[position];
  }
}
