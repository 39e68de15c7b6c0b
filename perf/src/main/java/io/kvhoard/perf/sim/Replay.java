package io.kvhoard.perf.sim;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import java.util.HashSet;
import java.util.Set;

/**
 * Replays a trace against one policy and a capacity, as the tiered store would run it: the
 * simulator keeps the set of resident blocks (the store's directory) and tells the policy what
 * happens.
 *
 * <p>Per request: the hit is the longest run of leading blocks that are all resident (a lookup
 * stops at the first miss). Then every block of the request ends up stored, as the engine computed
 * and stored the missing ones: resident blocks are accessed, the others inserted, parent first, and
 * after each insert the policy's victims are evicted until the cache is back to its capacity.
 * Blocks are counted whole except a request's last, which counts its real tokens: {@code
 * input_length - blockTokens * (n - 1)}.
 */
final class Replay {
  private Replay() {}

  /** Counts from one replay. */
  record Result(long hitBlocks, long totalBlocks, long hitTokens, long totalTokens) {
    double blockRatio() {
      return totalBlocks == 0 ? 0 : (double) hitBlocks / totalBlocks;
    }

    double tokenRatio() {
      return totalTokens == 0 ? 0 : (double) hitTokens / totalTokens;
    }
  }

  static Result run(Trace trace, long capacityBlocks, EvictionPolicy<Long> policy) {
    if (capacityBlocks <= 0) {
      throw new IllegalArgumentException("capacity must be at least one block");
    }
    Set<Long> resident = new HashSet<>();
    long blockTokens = trace.blockTokens();
    long hitBlocks = 0;
    long hitTokens = 0;
    for (int r = 0; r < trace.requests(); r++) {
      long[] ids = trace.blocks(r);
      int n = ids.length;
      long tokens = trace.inputTokens(r);
      int hit = 0;
      while (hit < n && resident.contains(ids[hit])) {
        hit++;
      }
      hitBlocks += hit;
      hitTokens += hit == n ? tokens : hit * blockTokens;
      Long parent = null;
      for (int i = 0; i < n; i++) {
        Long key = ids[i];
        if (resident.contains(key)) {
          policy.onAccess(key);
        } else {
          policy.onInsert(key, parent, i < n - 1 ? blockTokens : tokens - blockTokens * (n - 1));
          resident.add(key);
          while (resident.size() > capacityBlocks) {
            Long victim = policy.victim(k -> true);
            if (victim == null || !resident.remove(victim)) {
              throw new IllegalStateException(
                  policy.getClass().getSimpleName()
                      + " chose "
                      + victim
                      + ", not a resident block, with "
                      + resident.size()
                      + " resident");
            }
            policy.onRemove(victim);
          }
        }
        parent = key;
      }
    }
    return new Result(hitBlocks, trace.totalBlocks(), hitTokens, trace.totalTokens());
  }

  /** The hit ratio of a cache that never evicts: the most any policy can reach on the trace. */
  static Result unbounded(Trace trace) {
    return run(trace, Long.MAX_VALUE, new NeverEvict());
  }

  /** For {@link #unbounded}: a policy that is never asked for a victim. */
  private static final class NeverEvict implements EvictionPolicy<Long> {
    private int size;

    @Override
    public void onInsert(Long key, Long parent, long tokens) {
      size++;
    }

    @Override
    public void onAccess(Long key) {}

    @Override
    public void onRemove(Long key) {
      size--;
    }

    @Override
    public Long victim(java.util.function.Predicate<? super Long> evictable) {
      throw new IllegalStateException("an unbounded cache never evicts");
    }

    @Override
    public int size() {
      return size;
    }
  }
}
