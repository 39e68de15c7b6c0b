package io.kvhoard.perf.sim;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import java.util.LinkedHashMap;
import java.util.function.Predicate;

/**
 * Plain LRU over blocks, blind to prefixes: the baseline every other policy is compared with, and
 * what the reference data's README measured (a single shared LRU cache). Not thread-safe.
 */
final class Lru<K> implements EvictionPolicy<K> {
  private final LinkedHashMap<K, Boolean> order = new LinkedHashMap<>(1024, 0.75f, true);

  @Override
  public void onInsert(K key, K parent, long tokens) {
    if (order.putIfAbsent(key, Boolean.TRUE) != null) {
      throw new IllegalArgumentException("block " + key + " is already resident");
    }
  }

  @Override
  public void onAccess(K key) {
    if (order.get(key) == null) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
  }

  @Override
  public void onRemove(K key) {
    if (order.remove(key) == null) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
  }

  @Override
  public K victim(Predicate<? super K> evictable) {
    for (K key : order.keySet()) {
      if (evictable.test(key)) {
        return key;
      }
    }
    return null;
  }

  @Override
  public int size() {
    return order.size();
  }
}
