package io.kvhoard.server.store.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PrefixAwareLruTest {
  private static final long FULL = 512;

  private static PrefixAwareLru<String> policy() {
    return PrefixAwareLru.newBuilder().capacityBlocks(1000).blockTokens(FULL).build();
  }

  /** Evicts the victim the way a store does: ask, then report the removal. */
  private static <K> K evict(EvictionPolicy<K> p) {
    K v = p.victim(k -> true);
    p.onRemove(v);
    return v;
  }

  @Test
  void victim_empty_null() {
    assertNull(policy().victim(k -> true));
  }

  @Test
  void victim_chain_evictsTailFirstThenItsParent() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", FULL);
    p.onInsert("abc", "ab", FULL);
    assertEquals("abc", evict(p));
    assertEquals("ab", evict(p));
    assertEquals("a", evict(p));
    assertNull(p.victim(k -> true));
    assertEquals(0, p.size());
  }

  @Test
  void victim_olderParentOfRecentChild_childGoesFirst() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", FULL);
    p.onInsert("x", null, FULL);
    p.onAccess("ab"); // "a" is now the least recently used block, but not a leaf
    assertEquals("x", p.victim(k -> true));
  }

  @Test
  void victim_twoLeaves_leastRecentlyUsedFirst() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", FULL);
    p.onInsert("ac", "a", FULL);
    p.onAccess("ab");
    assertEquals("ac", evict(p));
    assertEquals("ab", evict(p));
    assertEquals("a", evict(p));
  }

  @Test
  void victim_predicateRejectsLeastRecentLeaf_nextLeaf() {
    PrefixAwareLru<String> p = policy();
    for (String k : new String[] {"x", "y", "z"}) {
      p.onInsert(k, null, FULL);
    }
    assertEquals("z", p.victim(k -> !Set.of("x", "y").contains(k)));
    assertEquals("y", p.victim(k -> !k.equals("x")));
    assertNull(p.victim(k -> false));
  }

  @Test
  void victim_pinnedLeaf_protectsItsWholePrefix() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", FULL);
    p.onInsert("abc", "ab", FULL);
    assertNull(p.victim(k -> !k.equals("abc")), "ancestors of a pinned leaf are not leaves");
  }

  @Test
  void onRemove_innerBlock_childrenBecomeOrphansAndGoFirst() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("x", null, FULL);
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", FULL);
    p.onInsert("abc", "ab", FULL);
    p.onRemove("ab"); // a delete: "abc" is unreachable now
    assertEquals("abc", evict(p), "an orphan goes before an older full leaf");
    assertEquals("x", evict(p));
    assertEquals("a", evict(p));
  }

  @Test
  void onInsert_orphanCommittedBeforeItsParent_adoptedWhenParentArrives() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("x", null, FULL);
    p.onInsert("ab", "a", FULL);
    assertEquals("ab", p.victim(k -> true), "orphan first");
    p.onInsert("a", null, FULL);
    assertEquals("x", evict(p), "adopted: an ordinary leaf now");
    assertEquals("ab", evict(p));
    assertEquals("a", evict(p));
  }

  @Test
  void victim_partialTail_beforeOlderFullLeaf() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("x", null, FULL);
    p.onInsert("a", null, FULL);
    p.onInsert("ab", "a", 100);
    assertEquals("ab", evict(p));
    assertEquals("x", evict(p));
  }

  @Test
  void victim_partialTailsFirstOff_plainLeafOrder() {
    PrefixAwareLru<String> p =
        PrefixAwareLru.newBuilder()
            .capacityBlocks(1000)
            .blockTokens(FULL)
            .partialTailsFirst(false)
            .build();
    p.onInsert("x", null, FULL);
    p.onInsert("y", null, 100);
    assertEquals("x", p.victim(k -> true));
  }

  @Test
  void victim_hitBlocks_rankedOneCapacityLaterPerHitUpToTwo() {
    PrefixAwareLru<Integer> p =
        PrefixAwareLru.newBuilder().capacityBlocks(5).blockTokens(1).build();
    p.onInsert(0, null, 1); // use 1
    p.onAccess(0); // use 2, one hit: ranked at 2 + 5 = 7
    for (int k = 1; k <= 4; k++) {
      p.onInsert(k, null, 1); // uses 3 to 6
    }
    p.onAccess(4); // use 7, one hit: ranked at 12
    p.onInsert(5, null, 1); // use 8
    p.onInsert(6, null, 1); // use 9
    p.onAccess(6); // use 10
    p.onAccess(6); // use 11, two hits: ranked at 11 + 10 = 21
    p.onInsert(7, null, 1); // use 12, ties with 4: inserted later, but no order is promised
    for (int expected : new int[] {1, 2, 3, 0, 5}) {
      assertEquals(expected, (int) evict(p));
    }
    assertEquals(Set.of(4, 7), Set.of(evict(p), evict(p)));
    assertEquals(6, (int) evict(p));
  }

  @Test
  void victim_reuseBonusOff_plainLru() {
    PrefixAwareLru<Integer> p =
        PrefixAwareLru.newBuilder().capacityBlocks(5).blockTokens(1).reuseBonus(false).build();
    p.onInsert(0, null, 1);
    p.onAccess(0);
    p.onInsert(1, null, 1);
    assertEquals(0, p.victim(k -> true));
  }

  @Test
  void onInsert_callerErrors_throw() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("a", null, FULL);
    assertThrows(IllegalArgumentException.class, () -> p.onInsert("a", null, FULL));
    assertThrows(IllegalArgumentException.class, () -> p.onInsert("b", "b", FULL));
    assertThrows(IllegalArgumentException.class, () -> p.onInsert("c", null, 0));
    assertThrows(IllegalArgumentException.class, () -> p.onInsert(null, null, FULL));
    assertThrows(IllegalArgumentException.class, () -> p.onAccess("z"));
    assertThrows(IllegalArgumentException.class, () -> p.onRemove("z"));
    assertEquals(1, p.size());
  }

  @Test
  void onInsert_parentWaitingForTheChild_cycleRejected() {
    PrefixAwareLru<String> p = policy();
    p.onInsert("b", "a", FULL); // orphan waiting for "a"
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> p.onInsert("a", "b", FULL));
    assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    assertEquals("b", p.victim(k -> true));
  }

  @Test
  void builder_missingOrBadSettings_failFast() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> PrefixAwareLru.newBuilder().blockTokens(16).build());
    assertTrue(e.getMessage().contains("capacityBlocks"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> PrefixAwareLru.newBuilder().capacityBlocks(0));
    assertThrows(IllegalArgumentException.class, () -> PrefixAwareLru.newBuilder().blockTokens(-1));
  }
}
