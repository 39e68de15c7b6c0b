package io.kvhoard.server.store.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Random operation sequences over a random forest of 16 blocks, as a store would issue them
 * (insert, hit, delete, evict with some blocks pinned), checked after every step.
 */
class EvictionPolicyPropertiesTest {
  private static final int KEYS = 16;
  private static final long FULL = 512;

  /** An operation: kind (insert-or-hit, delete, evict, hit), key, and a mask of pinned keys. */
  private record Op(int kind, int key, int pinned) {
    static Op decode(int code) {
      return new Op(code & 3, (code >>> 2) & (KEYS - 1), code >>> 6);
    }

    Predicate<Integer> evictable() {
      return k -> (pinned & (1 << k)) == 0;
    }
  }

  private static Integer[] forest(List<Integer> parentChoices) {
    Integer[] parentOf = new Integer[KEYS];
    for (int k = 1; k < KEYS; k++) {
      int c = parentChoices.get(k);
      parentOf[k] = c < 0 ? null : c % k;
    }
    return parentOf;
  }

  private static long tokens(int k) {
    return k % 3 == 2 ? 100 : FULL;
  }

  private void prefixAwareLru_randomOperations_matchesReferenceModelCase(
      List<Integer> parentChoices,
      List<Integer> ops,
      int capacity,
      boolean partialTailsFirst,
      boolean reuseBonus) {
    Integer[] parentOf = forest(parentChoices);
    PrefixAwareLru<Integer> policy =
        PrefixAwareLru.newBuilder()
            .capacityBlocks(capacity)
            .blockTokens(FULL)
            .partialTailsFirst(partialTailsFirst)
            .reuseBonus(reuseBonus)
            .build();
    ReferenceModel model =
        new ReferenceModel(parentOf, FULL, capacity, partialTailsFirst, reuseBonus);
    for (int code : ops) {
      Op op = Op.decode(code);
      int k = op.key();
      switch (op.kind()) {
        case 0, 3 -> {
          if (model.resident(k)) {
            policy.onAccess(k);
            model.use(k);
          } else if (op.kind() == 0) {
            policy.onInsert(k, parentOf[k], tokens(k));
            model.insert(k, tokens(k));
          }
        }
        case 1 -> {
          if (model.resident(k)) {
            policy.onRemove(k);
            model.remove(k);
          }
        }
        default -> {
          Integer v = policy.victim(op.evictable());
          Set<Integer> expected = model.best(op.evictable());
          if (v != null) {
            assertTrue(expected.contains(v), "victim " + v + ", reference " + expected);
            policy.onRemove(v);
            model.remove(v);
          } else {
            assertEquals(Set.of(), expected);
          }
        }
      }
      assertEquals(model.size(), policy.size());
      Integer v = policy.victim(op.evictable());
      Set<Integer> expected = model.best(op.evictable());
      if (expected.isEmpty()) {
        assertNull(v);
      } else {
        assertTrue(expected.contains(v), "victim " + v + ", reference " + expected);
      }
    }
  }

  private void windowTinyLfu_randomOperations_evictsOnlyEvictableLeavesCase(
      List<Integer> parentChoices, List<Integer> ops, int capacity, boolean prefixAware) {
    Integer[] parentOf = forest(parentChoices);
    WindowTinyLfu<Integer> policy =
        WindowTinyLfu.newBuilder()
            .capacityBlocks(capacity)
            .blockTokens(FULL)
            .prefixAware(prefixAware)
            .build();
    Set<Integer> resident = new HashSet<>();
    for (int code : ops) {
      Op op = Op.decode(code);
      int k = op.key();
      if (op.kind() == 2) {
        Integer v = policy.victim(op.evictable());
        boolean any = false;
        for (int r : resident) {
          any |= op.evictable().test(r) && (!prefixAware || isLeaf(r, resident, parentOf));
        }
        if (!any) {
          assertNull(v);
          continue;
        }
        assertNotNull(v);
        assertTrue(resident.contains(v) && op.evictable().test(v), "victim " + v);
        if (prefixAware) {
          assertTrue(isLeaf(v, resident, parentOf), "victim " + v + " has a resident child");
        }
        policy.onRemove(v);
        resident.remove(v);
      } else if (resident.contains(k)) {
        if (op.kind() == 1) {
          policy.onRemove(k);
          resident.remove(k);
        } else {
          policy.onAccess(k);
        }
      } else if (op.kind() == 0) {
        policy.onInsert(k, parentOf[k], tokens(k));
        resident.add(k);
      }
      assertEquals(resident.size(), policy.size());
    }
  }

  private static boolean isLeaf(int k, Set<Integer> resident, Integer[] parentOf) {
    for (int j : resident) {
      if (parentOf[j] != null && parentOf[j] == k) {
        return false;
      }
    }
    return true;
  }

  @Test
  void prefixAwareLru_randomOperations_matchesReferenceModel() {
    // Seeded random cases: a property test without a framework; a failure names its case.
    for (int i = 0; i < 400; i++) {
      SplittableRandom r = new SplittableRandom(0x5eedL + i);
      try {
        prefixAwareLru_randomOperations_matchesReferenceModelCase(
            ints(r, KEYS, -1, KEYS),
            ints(r, r.nextInt(0, 121), 0, (1 << 22) - 1),
            r.nextInt(1, 13),
            r.nextBoolean(),
            r.nextBoolean());
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("case " + i + " failed", e);
      }
    }
  }

  @Test
  void windowTinyLfu_randomOperations_evictsOnlyEvictableLeaves() {
    // Seeded random cases: a property test without a framework; a failure names its case.
    for (int i = 0; i < 300; i++) {
      SplittableRandom r = new SplittableRandom(0x5eedL + i);
      try {
        windowTinyLfu_randomOperations_evictsOnlyEvictableLeavesCase(
            ints(r, KEYS, -1, KEYS),
            ints(r, r.nextInt(0, 151), 0, (1 << 22) - 1),
            r.nextInt(1, 301),
            r.nextBoolean());
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("case " + i + " failed", e);
      }
    }
  }

  private static List<Integer> ints(SplittableRandom r, int size, int min, int max) {
    List<Integer> out = new java.util.ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(r.nextInt(min, max + 1));
    }
    return out;
  }
}
