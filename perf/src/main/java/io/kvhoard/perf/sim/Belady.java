package io.kvhoard.perf.sim;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * Belady's offline optimum (Belady, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 1966): evict the block whose next use is farthest in the future.
 * The limit every online policy is compared with.
 *
 * <h2>Design</h2>
 *
 * <p>Next uses are precomputed ({@link FutureUses}); the policy follows the replay one reference at
 * a time. A block never used again ranks farthest; among those, the deepest block goes first.
 *
 * <p>Why it is the optimum here too, where a hit counts only within the leading run of resident
 * blocks: any request that uses a block also uses its parent, earlier, so a child's next use is
 * never before its parent's and the resident set stays closed under parents. Every resident block
 * of a request is then part of its leading run, hits are exactly the resident references, and
 * Belady's MIN maximises those. The block just stored may itself be the victim (a bypass): this
 * makes it the optimum with or without an admission filter.
 *
 * <p>Not thread-safe.
 */
final class Belady implements EvictionPolicy<Long> {
  private record Entry(long key, int nextUse, int depth) {}

  private static final Comparator<Entry> FARTHEST_FIRST =
      Comparator.comparingInt(Entry::nextUse).thenComparingInt(Entry::depth).reversed();

  private final FutureUses future;
  private final Map<Long, Entry> resident = new HashMap<>();
  private final PriorityQueue<Entry> queue = new PriorityQueue<>(FARTHEST_FIRST);

  Belady(Trace trace) {
    this.future = new FutureUses(trace);
  }

  @Override
  public void onInsert(Long key, Long parent, long tokens) {
    if (resident.containsKey(key)) {
      throw new IllegalArgumentException("block " + key + " is already resident");
    }
    reference(key);
  }

  @Override
  public void onAccess(Long key) {
    if (!resident.containsKey(key)) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
    reference(key);
  }

  @Override
  public void onRemove(Long key) {
    if (resident.remove(key) == null) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
  }

  @Override
  public Long victim(Predicate<? super Long> evictable) {
    List<Entry> skipped = new ArrayList<>();
    Long found = null;
    while (!queue.isEmpty()) {
      Entry e = queue.peek();
      if (resident.get(e.key()) != e) {
        queue.poll(); // stale: used again or removed since
      } else if (evictable.test(e.key())) {
        found = e.key();
        break;
      } else {
        skipped.add(queue.poll());
      }
    }
    queue.addAll(skipped);
    return found;
  }

  @Override
  public int size() {
    return resident.size();
  }

  private void reference(long key) {
    int p = future.advance(key);
    Entry e = new Entry(key, future.nextUse(p), future.depth(p));
    resident.put(key, e);
    queue.add(e);
  }
}
