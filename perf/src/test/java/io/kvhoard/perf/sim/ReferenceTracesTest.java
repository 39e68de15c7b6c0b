package io.kvhoard.perf.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.testing.SharedData;
import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The simulator against the numbers published with the Mooncake traces (shared/data/README.md), and
 * the default policy against plain LRU on them. 3M and 10M tokens only, to stay fast.
 */
class ReferenceTracesTest {
  private static final long M = 1_000_000 / 512;
  private static Trace conversation;
  private static Trace synthetic;

  @BeforeAll
  static void read() throws IOException {
    conversation = Trace.read(SharedData.path("traces/conversation_trace.jsonl"), 512);
    synthetic = Trace.read(SharedData.path("traces/synthetic_trace.jsonl"), 512);
  }

  private static double ratio(Trace t, long mTokens, Policy p) {
    long blocks = mTokens * M;
    return Replay.run(t, blocks, p.create(t, blocks)).blockRatio();
  }

  @Test
  void unbounded_bothTraces_readmeMaxima() {
    assertEquals(0.366, Replay.unbounded(conversation).blockRatio(), 0.0005);
    assertEquals(0.640, Replay.unbounded(synthetic).blockRatio(), 0.0005);
  }

  @Test
  void lru_conversationTrace_reproducesReadmeWithinHalfAPoint() {
    assertEquals(0.136, ratio(conversation, 3, Policy.LRU), 0.005);
    assertEquals(0.285, ratio(conversation, 10, Policy.LRU), 0.005);
  }

  @Test
  void defaultPolicy_bothTraces_atLeastLru() {
    for (Trace t : new Trace[] {conversation, synthetic}) {
      for (long m : new long[] {3, 10}) {
        double lru = ratio(t, m, Policy.LRU);
        double ours = ratio(t, m, Policy.DEFAULT);
        assertTrue(ours >= lru, t.name() + " " + m + "M: " + ours + " < lru " + lru);
      }
    }
  }

  @Test
  void defaultPolicy_synthetic10M_atLeastNineTenthsOfOpt() {
    double opt = ratio(synthetic, 10, Policy.OPT);
    double ours = ratio(synthetic, 10, Policy.DEFAULT);
    assertTrue(ours >= 0.9 * opt, ours + " vs opt " + opt);
  }
}
