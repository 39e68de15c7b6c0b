package io.kvhoard.perf.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReplayTest {
  private static Trace trace(long[] tokens, long[]... blocks) {
    return Trace.of("test", 512, tokens, blocks);
  }

  @Test
  void run_sharedPrefix_hitsItsLeadingBlocksAndTokens() {
    Trace t = trace(new long[] {1300, 1100}, new long[] {1, 2, 3}, new long[] {1, 2, 4});
    Replay.Result r = Replay.run(t, 100, new Lru<>());
    assertEquals(new Replay.Result(2, 6, 1024, 2400), r);
  }

  @Test
  void run_wholeRequestAgain_lastBlockCountsItsRealTokens() {
    Trace t = trace(new long[] {700, 700}, new long[] {1, 2}, new long[] {1, 2});
    assertEquals(new Replay.Result(2, 4, 700, 1400), Replay.run(t, 100, new Lru<>()));
  }

  @Test
  void run_firstBlockEvicted_laterResidentBlocksDoNotHit() {
    // Plain LRU, 3 blocks: after [9] evicts block 1, blocks 2 and 3 are resident but unreachable.
    Trace t =
        trace(
            new long[] {1536, 512, 1536},
            new long[] {1, 2, 3},
            new long[] {9},
            new long[] {1, 2, 3});
    assertEquals(0, Replay.run(t, 3, new Lru<>()).hitBlocks());
    assertEquals(3, Replay.run(t, 4, new Lru<>()).hitBlocks());
  }

  @Test
  void unbounded_everyRepeatedPrefixHits() {
    Trace t =
        trace(new long[] {1024, 1024, 512}, new long[] {1, 2}, new long[] {1, 3}, new long[] {1});
    assertEquals(2, Replay.unbounded(t).hitBlocks());
  }

  @Test
  void opt_evictsTheBlockUsedFarthestAhead() {
    // Capacity 2. Request [3] must drop 1, 2 or 3 itself: 3 is never used again.
    Trace t =
        trace(
            new long[] {512, 512, 512, 512, 512},
            new long[] {1},
            new long[] {2},
            new long[] {3},
            new long[] {2},
            new long[] {1});
    assertEquals(2, Replay.run(t, 2, new Belady(t)).hitBlocks());
    assertEquals(1, Replay.run(t, 2, new Lru<>()).hitBlocks(), "LRU drops 1 for 3");
  }

  @Test
  void opt_drivenOutOfStep_fails() {
    Trace t = trace(new long[] {512}, new long[] {1});
    Belady b = new Belady(t);
    assertThrows(IllegalStateException.class, () -> b.onInsert(2L, null, 512));
  }

  @Test
  void run_zeroCapacity_rejected() {
    Trace t = trace(new long[] {512}, new long[] {1});
    assertThrows(IllegalArgumentException.class, () -> Replay.run(t, 0, new Lru<>()));
  }

  /**
   * A random prefix workload: conversations that grow turn by turn over a few shared system
   * prompts, partial last blocks included.
   */
  static Trace randomTrace(long seed, int requests) {
    Random rnd = new Random(seed);
    List<long[]> blocks = new ArrayList<>();
    List<Long> tokens = new ArrayList<>();
    List<long[]> conversations = new ArrayList<>();
    long next = 100;
    for (int r = 0; r < requests; r++) {
      long[] base;
      if (conversations.isEmpty() || rnd.nextInt(3) == 0) {
        base = new long[] {rnd.nextInt(3)}; // one of three system prompts
      } else {
        long[] previous = conversations.get(rnd.nextInt(conversations.size()));
        base = java.util.Arrays.copyOf(previous, previous.length - 1); // drop its partial tail
      }
      int added = 1 + rnd.nextInt(4);
      long[] request = java.util.Arrays.copyOf(base, base.length + added);
      for (int i = base.length; i < request.length; i++) {
        request[i] = next++;
      }
      conversations.add(request);
      blocks.add(request);
      tokens.add(512L * (request.length - 1) + 1 + rnd.nextInt(512));
    }
    return Trace.of(
        "random",
        512,
        tokens.stream().mapToLong(Long::longValue).toArray(),
        blocks.toArray(new long[0][]));
  }

  private void opt_randomPrefixTraces_noPolicyBeatsItCase(long seed, int requests, int capacity) {
    Trace t = randomTrace(seed, requests);
    long opt = Replay.run(t, capacity, new Belady(t)).hitBlocks();
    long unbounded = Replay.unbounded(t).hitBlocks();
    assertTrue(opt <= unbounded);
    for (Policy p : Policy.values()) {
      long hits = Replay.run(t, capacity, p.create(t, capacity)).hitBlocks();
      assertTrue(hits <= opt, p.id() + " hit " + hits + " blocks, opt " + opt);
    }
  }

  @Test
  void opt_randomPrefixTraces_noPolicyBeatsIt() {
    // Seeded random cases: a property test without a framework; a failure names its case.
    for (int i = 0; i < 200; i++) {
      SplittableRandom r = new SplittableRandom(0x5eedL + i);
      try {
        opt_randomPrefixTraces_noPolicyBeatsItCase(
            r.nextLong(), r.nextInt(1, 61), r.nextInt(1, 41));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("case " + i + " failed", e);
      }
    }
  }
}
