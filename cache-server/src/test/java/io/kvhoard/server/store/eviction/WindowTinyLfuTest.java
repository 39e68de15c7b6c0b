package io.kvhoard.server.store.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WindowTinyLfuTest {
  /** A cache of 100 blocks: a window of 1, a main region of 99. */
  private static WindowTinyLfu<Integer> policy(boolean prefixAware) {
    return WindowTinyLfu.newBuilder()
        .capacityBlocks(100)
        .blockTokens(1)
        .prefixAware(prefixAware)
        .build();
  }

  /** Blocks 0 to 98 fill the main region, 99 and 100 the window: one too many. */
  private static void fill(WindowTinyLfu<Integer> p, int hitsOn99) {
    for (int k = 0; k <= 99; k++) {
      p.onInsert(k, null, 1);
    }
    for (int i = 0; i < hitsOn99; i++) {
      p.onAccess(99);
    }
    p.onInsert(100, null, 1);
  }

  @Test
  void victim_candidateNoMoreFrequentThanOpponent_candidateEvicted() {
    WindowTinyLfu<Integer> p = policy(true);
    fill(p, 0);
    assertEquals(99, p.victim(k -> true), "a tie evicts the candidate");
  }

  @Test
  void victim_candidateMoreFrequentThanOpponent_opponentEvicted() {
    WindowTinyLfu<Integer> p = policy(true);
    fill(p, 3);
    assertEquals(0, p.victim(k -> true), "the main region's least recently used block");
    p.onRemove(0);
    assertEquals(100, p.size());
  }

  @Test
  void victim_windowBlockWithResidentChild_movesToMainWithoutContest() {
    WindowTinyLfu<Integer> p = policy(true);
    for (int k = 0; k <= 98; k++) {
      p.onInsert(k, null, 1);
    }
    p.onInsert(1000, null, 1); // in the window, the parent of 1001
    p.onInsert(1001, 1000, 1);
    int v = p.victim(k -> true);
    assertTrue(v != 1000, "1000 has a resident child");
  }

  @Test
  void victim_prefixBlind_mayEvictAParent() {
    WindowTinyLfu<Integer> p = policy(false);
    p.onInsert(1000, null, 1);
    for (int k = 0; k <= 98; k++) {
      p.onInsert(k, 1000, 1);
    }
    p.onAccess(98);
    p.onAccess(98);
    p.onInsert(99, 1000, 1);
    // 1000 and 0 to 97 fill the main region; 98 and 99 are in the window. Candidate 98, seen three
    // times, beats the main region's least recently used block, 1000, parent of every other block.
    assertEquals(1000, p.victim(k -> true));
  }

  @Test
  void builder_missingSettings_failFast() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> WindowTinyLfu.newBuilder().capacityBlocks(9).build());
    assertTrue(e.getMessage().contains("blockTokens"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WindowTinyLfu.newBuilder().blockTokens(0));
  }
}
