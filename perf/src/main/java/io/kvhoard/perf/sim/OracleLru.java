package io.kvhoard.perf.sim;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.function.Predicate;

/**
 * A diagnostic, not a policy a store could run: plain LRU told one bit of the future, whether a
 * block will ever be used again. Dead blocks are evicted first, the rest in LRU order. The
 * difference between this and {@code lru} is what perfect dead-block prediction is worth; the
 * difference between this and {@code opt} is what the order of the live blocks is worth. Not
 * thread-safe.
 */
final class OracleLru implements EvictionPolicy<Long> {
  private final FutureUses future;
  private final LinkedHashMap<Long, Boolean> live = new LinkedHashMap<>(1024, 0.75f, true);
  private final LinkedHashSet<Long> dead = new LinkedHashSet<>();

  OracleLru(Trace trace) {
    this.future = new FutureUses(trace);
  }

  @Override
  public void onInsert(Long key, Long parent, long tokens) {
    if (live.containsKey(key) || dead.contains(key)) {
      throw new IllegalArgumentException("block " + key + " is already resident");
    }
    reference(key);
  }

  @Override
  public void onAccess(Long key) {
    if (live.remove(key) == null && !dead.remove(key)) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
    reference(key);
  }

  @Override
  public void onRemove(Long key) {
    if (live.remove(key) == null && !dead.remove(key)) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
  }

  @Override
  public Long victim(Predicate<? super Long> evictable) {
    for (Long key : dead) {
      if (evictable.test(key)) {
        return key;
      }
    }
    for (Long key : live.keySet()) {
      if (evictable.test(key)) {
        return key;
      }
    }
    return null;
  }

  @Override
  public int size() {
    return live.size() + dead.size();
  }

  private void reference(long key) {
    if (future.nextUse(future.advance(key)) == FutureUses.NEVER) {
      dead.add(key);
    } else {
      live.put(key, Boolean.TRUE);
    }
  }
}
