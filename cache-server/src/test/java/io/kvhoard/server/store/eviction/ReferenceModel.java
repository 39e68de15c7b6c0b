package io.kvhoard.server.store.eviction;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The eviction order of {@link PrefixAwareLru} computed the slow, obvious way: every resident block
 * with its last use and use count, and a full scan for the best evictable leaf. For property tests.
 */
final class ReferenceModel {
  private final Integer[] parentOf;
  private final long blockTokens;
  private final boolean partialTailsFirst;
  private final long bonus;
  private final Map<Integer, Long> lastUse = new HashMap<>();
  private final Map<Integer, Integer> uses = new HashMap<>();
  private final Map<Integer, Long> tokens = new HashMap<>();
  private long clock;

  ReferenceModel(
      Integer[] parentOf,
      long blockTokens,
      long capacityBlocks,
      boolean partialTailsFirst,
      boolean reuseBonus) {
    this.parentOf = parentOf;
    this.blockTokens = blockTokens;
    this.partialTailsFirst = partialTailsFirst;
    this.bonus = reuseBonus ? capacityBlocks : 0;
  }

  boolean resident(int k) {
    return lastUse.containsKey(k);
  }

  int size() {
    return lastUse.size();
  }

  void insert(int k, long t) {
    tokens.put(k, t);
    uses.put(k, 0);
    use(k);
  }

  void use(int k) {
    lastUse.put(k, ++clock);
    uses.merge(k, 1, Integer::sum);
  }

  void remove(int k) {
    lastUse.remove(k);
    uses.remove(k);
    tokens.remove(k);
  }

  boolean isLeaf(int k) {
    for (int j : lastUse.keySet()) {
      if (parentOf[j] != null && parentOf[j] == k) {
        return false;
      }
    }
    return true;
  }

  /** Every evictable leaf that ranks first; ties are all returned. Empty if there is none. */
  Set<Integer> best(Predicate<Integer> evictable) {
    Set<Integer> best = new HashSet<>();
    int bestRank = Integer.MAX_VALUE;
    long bestPriority = Long.MAX_VALUE;
    for (int k : lastUse.keySet()) {
      if (!isLeaf(k) || !evictable.test(k)) {
        continue;
      }
      int rank = rank(k);
      long priority =
          lastUse.get(k) + (uses.get(k) == 2 ? bonus : uses.get(k) >= 3 ? 2 * bonus : 0);
      if (rank < bestRank || (rank == bestRank && priority < bestPriority)) {
        best.clear();
        bestRank = rank;
        bestPriority = priority;
      }
      if (rank == bestRank && priority == bestPriority) {
        best.add(k);
      }
    }
    return best;
  }

  private int rank(int k) {
    if (parentOf[k] != null && !resident(parentOf[k])) {
      return 0;
    }
    return partialTailsFirst && tokens.get(k) < blockTokens ? 1 : 2;
  }
}
