package io.kvhoard.server.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScorerTest {
  private final Scorer scorer = Scorer.newBuilder().build();

  @Test
  void score_idlePods_longerPrefixFirstWithSavedPrefillSeconds() {
    List<Scorer.PodScore> s =
        scorer.score(
            List.of(new PodMatch("a", 10, 10, 0, 0), new PodMatch("b", 100, 100, 0, 0)),
            16,
            3200,
            Map.of(),
            7);
    assertEquals("b", s.get(0).pod());
    assertEquals(1600, s.get(0).tokens());
    // 1600 tokens of a 3200-token prompt: 1600/15000 + 5.2e-10 * 1600 * 3200 seconds saved
    assertEquals(1600 / 15000.0 + 5.2e-10 * 1600 * 3200, s.get(0).score(), 1e-12);
  }

  @Test
  void score_tiers_gpuBeatsHostBeatsDiskForTheSameBlocks() {
    List<Scorer.PodScore> s =
        scorer.score(
            List.of(
                new PodMatch("disk", 8, 0, 0, 8),
                new PodMatch("host", 8, 0, 8, 0),
                new PodMatch("gpu", 8, 8, 0, 0)),
            16,
            1000,
            Map.of(),
            1);
    assertEquals(List.of("gpu", "host", "disk"), s.stream().map(Scorer.PodScore::pod).toList());
  }

  @Test
  void score_loadedPodWithPrefix_losesToIdlePodWhenQueueOutweighsSavedPrefill() {
    // 32 blocks of 16 save about 34 ms of a 512-token prompt; 1 s of queue outweighs it
    List<PodMatch> m =
        List.of(new PodMatch("warm", 32, 32, 0, 0), new PodMatch("cold", 0, 0, 0, 0));
    assertEquals("warm", scorer.score(m, 16, 512, Map.of("warm", 0.01), 1).get(0).pod());
    assertEquals("cold", scorer.score(m, 16, 512, Map.of("warm", 1.0), 1).get(0).pod());
  }

  @Test
  void score_equalPrefixAndLoad_tiesSpreadByRequestNotPodOrder() {
    List<PodMatch> m = List.of();
    List<PodMatch> all = new java.util.ArrayList<>(m);
    for (int p = 0; p < 8; p++) {
      all.add(new PodMatch("pod-" + p, 4, 4, 0, 0));
    }
    Map<String, Integer> wins = new HashMap<>();
    for (long r = 0; r < 8000; r++) {
      wins.merge(scorer.score(all, 16, 640, Map.of(), r).get(0).pod(), 1, Integer::sum);
    }
    assertEquals(8, wins.size());
    for (int w : wins.values()) {
      assertTrue(w > 800 && w < 1200, wins.toString());
    }
  }

  @Test
  void score_equalPrefixDifferentLoad_lowerLoadFirst() {
    List<PodMatch> m = List.of(new PodMatch("a", 4, 4, 0, 0), new PodMatch("b", 4, 4, 0, 0));
    Scorer noLoadCost = Scorer.newBuilder().loadUnitSeconds(0).build();
    for (long r = 0; r < 50; r++) {
      assertEquals("b", noLoadCost.score(m, 16, 640, Map.of("a", 3.0, "b", 1.0), r).get(0).pod());
    }
  }

  @Test
  void score_keysWithoutInputLength_countsLongestMatchAsThePrompt() {
    List<Scorer.PodScore> s =
        scorer.score(List.of(new PodMatch("a", 4, 4, 0, 0)), 512, 0, Map.of(), 1);
    assertEquals(2048 / 15000.0 + 5.2e-10 * 2048 * 2048, s.get(0).score(), 1e-12);
  }

  @Test
  void builder_badWeights_rejected() {
    assertThrows(
        IllegalArgumentException.class, () -> Scorer.newBuilder().tierWeights(0.5, 0.9, 0.1));
    assertThrows(IllegalArgumentException.class, () -> Scorer.newBuilder().tierWeights(2, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> Scorer.newBuilder().prefillModel(0, 0));
    assertThrows(IllegalArgumentException.class, () -> Scorer.newBuilder().loadUnitSeconds(-1));
  }
}
