package io.kvhoard.server.index;

import static io.kvhoard.server.index.Events.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.Tier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A seeded simulation: random vLLM-style events (pods with engine block sizes 16, 32, 8, 48 and 24
 * against the index's 16, chained events, removals per tier, clears) applied to the index and to a
 * plain on-heap model keyed by token prefixes, which knows nothing of hashing; every prompt's
 * matches must agree.
 */
class PrefixIndexSimulationTest {
  private static final int B = 16;
  private static final int[] ENGINE_BLOCKS = {16, 32, 8, 48, 24};
  private static final Tier[] TIERS = {Tier.TIER_GPU, Tier.TIER_HOST, Tier.TIER_DISK};

  /** The reference: per pod, canonical token prefixes held by tier, and engine blocks. */
  private static final class Model {
    final Map<String, Map<List<Long>, Integer>> held = new HashMap<>();
    final Map<String, Map<Long, EngineBlock>> engine = new HashMap<>();

    record EngineBlock(List<Long> prefix, List<List<Long>> completed, int[] tiers) {}

    void stored(String pod, List<Long> parentPrefix, List<long[]> blocks, long[] keys, int tier) {
      List<Long> prefix = new ArrayList<>(parentPrefix);
      for (int i = 0; i < blocks.size(); i++) {
        int start = prefix.size();
        for (long t : blocks.get(i)) {
          prefix.add(t);
        }
        List<List<Long>> completed = new ArrayList<>();
        for (int end = (start / B + 1) * B; end <= prefix.size(); end += B) {
          List<Long> c = List.copyOf(prefix.subList(0, end));
          completed.add(c);
          held.computeIfAbsent(pod, p -> new HashMap<>()).merge(c, tier, (a, b) -> a | b);
        }
        EngineBlock old = engine.computeIfAbsent(pod, p -> new HashMap<>()).get(keys[i]);
        int tiers = old == null ? tier : old.tiers[0] | tier;
        engine
            .get(pod)
            .put(keys[i], new EngineBlock(List.copyOf(prefix), completed, new int[] {tiers}));
      }
    }

    void removed(String pod, long key, int tiers) {
      EngineBlock e = engine.getOrDefault(pod, Map.of()).get(key);
      if (e == null) {
        return;
      }
      for (List<Long> c : e.completed) {
        Map<List<Long>, Integer> h = held.get(pod);
        Integer left = h.get(c);
        if (left != null) {
          if ((left & ~tiers) == 0) {
            h.remove(c);
          } else {
            h.put(c, left & ~tiers);
          }
        }
      }
      e.tiers[0] &= ~tiers;
      if (e.tiers[0] == 0) {
        engine.get(pod).remove(key);
      }
    }

    void cleared(String pod) {
      held.remove(pod);
      engine.remove(pod);
    }

    Map<String, PodMatch> match(long[] prompt, List<String> pods) {
      Map<String, PodMatch> out = new TreeMap<>();
      for (String pod : pods) {
        Map<List<Long>, Integer> h = held.getOrDefault(pod, Map.of());
        int g = 0;
        int ho = 0;
        int d = 0;
        List<Long> prefix = new ArrayList<>();
        for (int b = 0; b + B <= prompt.length; b += B) {
          for (int i = b; i < b + B; i++) {
            prefix.add(prompt[i]);
          }
          Integer t = h.get(prefix);
          if (t == null) {
            break;
          }
          if ((t & 1) != 0) {
            g++;
          } else if ((t & 2) != 0) {
            ho++;
          } else {
            d++;
          }
        }
        out.put(pod, new PodMatch(pod, g + ho + d, g, ho, d));
      }
      return out;
    }
  }

  /** Engine key of a block: a hash of its whole prefix, as vLLM's chained keys. */
  private static long engineKey(List<Long> prefix, int upTo) {
    long h = 0x1234_5678L;
    for (int i = 0; i < upTo; i++) {
      h = (h ^ prefix.get(i)) * 0x100_0000_01B3L;
      h ^= h >>> 29;
    }
    return h;
  }

  @Test
  void simulation_randomEventsEveryPodAndBlockSize_matchesReferenceModel() {
    SplittableRandom rnd = new SplittableRandom(20_260_101);
    List<long[]> docs = new ArrayList<>();
    for (int d = 0; d < 12; d++) {
      long[] doc = new long[48 * 8];
      for (int i = 0; i < doc.length; i++) {
        // docs share their first tokens in pairs, then diverge: prefixes that branch mid-block
        doc[i] = i < 40 ? 1000 * (d / 2) + i : rnd.nextInt(50_000);
      }
      docs.add(doc);
    }
    List<String> pods = List.of("p16", "p32", "p8", "p48", "p24");
    Model model = new Model();
    try (PrefixIndex index =
        PrefixIndex.newBuilder().capacity(1_000_000).blockTokens(B).clock(() -> 0L).build()) {
      for (int step = 0; step < 4000; step++) {
        int p = rnd.nextInt(pods.size());
        String pod = pods.get(p);
        int eb = ENGINE_BLOCKS[p];
        int r = rnd.nextInt(100);
        if (r < 60) {
          long[] doc = docs.get(rnd.nextInt(docs.size()));
          int blocks = 1 + rnd.nextInt(doc.length / eb);
          int split = rnd.nextInt(blocks); // events [0, split) and [split, blocks)
          List<Long> prefix = new ArrayList<>();
          for (long t : doc) {
            prefix.add(t);
          }
          Tier tier = TIERS[rnd.nextInt(10) < 7 ? 0 : 1 + rnd.nextInt(2)];
          for (int[] range : new int[][] {{0, split}, {split, blocks}}) {
            if (range[0] == range[1]) {
              continue;
            }
            int n = range[1] - range[0];
            long[] keys = new long[n];
            List<long[]> blockTokens = new ArrayList<>();
            long[] tokens = new long[n * eb];
            for (int i = 0; i < n; i++) {
              int b = range[0] + i;
              keys[i] = engineKey(prefix, (b + 1) * eb);
              long[] bt = java.util.Arrays.copyOfRange(doc, b * eb, (b + 1) * eb);
              blockTokens.add(bt);
              System.arraycopy(bt, 0, tokens, i * eb, eb);
            }
            long parent = range[0] == 0 ? -1 : engineKey(prefix, range[0] * eb);
            index.accept(Events.stored(NS, pod, keys, parent, tokens, eb, tier));
            boolean parentKnown =
                parent == -1 || model.engine.getOrDefault(pod, Map.of()).containsKey(parent);
            if (parentKnown) {
              model.stored(pod, prefix.subList(0, range[0] * eb), blockTokens, keys, tierBit(tier));
            }
          }
        } else if (r < 92) {
          Map<Long, Model.EngineBlock> e = model.engine.getOrDefault(pod, Map.of());
          if (!e.isEmpty()) {
            List<Long> keys = new ArrayList<>(e.keySet());
            keys.sort(null);
            long key = keys.get(rnd.nextInt(keys.size()));
            Tier tier =
                rnd.nextInt(4) == 0 ? Tier.TIER_UNSPECIFIED : TIERS[rnd.nextInt(TIERS.length)];
            index.accept(Events.removed(NS, pod, tier, key));
            model.removed(pod, key, tier == Tier.TIER_UNSPECIFIED ? 7 : tierBit(tier));
          }
        } else if (r < 94) {
          index.accept(Events.cleared(rnd.nextBoolean() ? NS : null, pod));
          model.cleared(pod);
        }
        if (step % 20 == 0) {
          long[] doc = docs.get(rnd.nextInt(docs.size()));
          int len = rnd.nextInt(doc.length + 1);
          long[] prompt = java.util.Arrays.copyOf(doc, len);
          if (len > 0 && rnd.nextBoolean()) {
            prompt[rnd.nextInt(len)] = -5;
          }
          Map<String, PodMatch> got = new TreeMap<>();
          for (PodMatch m : index.match(NS, index.keysOfTokens(NS, prompt, len), pods)) {
            got.put(m.pod(), m);
          }
          assertEquals(model.match(prompt, pods), got, "step " + step);
          Map<String, PodMatch> fused = new TreeMap<>();
          long[] last = new long[1];
          for (PodMatch m : index.matchTokens(NS, prompt, len, pods, last)) {
            fused.put(m.pod(), m);
          }
          assertEquals(got, fused, "matchTokens, step " + step);
          long[] keys = index.keysOfTokens(NS, prompt, len);
          assertEquals(keys.length == 0 ? len : keys[keys.length - 1], last[0], "step " + step);
        }
      }
      IndexStats s = index.stats();
      assertEquals(0, s.evictions());
      assertEquals(0, s.eventsMalformed());
      assertTrue(s.eventsApplied() > 2000, s.toString());
    }
  }

  @Test
  void concurrency_writersAndReaders_finalStateMatchesModel() throws Exception {
    int podsN = 4;
    int blocksPerPod = 20_000;
    try (PrefixIndex index = PrefixIndex.newBuilder().capacity(200_000).clock(() -> 0L).build()) {
      ExecutorService ex = Executors.newFixedThreadPool(podsN + 2);
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < podsN; p++) {
          String pod = "pod" + p;
          int stride = p + 1;
          fs.add(
              ex.submit(
                  () -> {
                    // pod p holds keys 0, stride, 2 stride, ... after storing all and removing odd
                    for (int k = 0; k < blocksPerPod; k++) {
                      index.accept(Events.storedKeys(NS, pod, Tier.TIER_GPU, k));
                    }
                    for (int k = 0; k < blocksPerPod; k++) {
                      if (k % stride != 0) {
                        index.accept(Events.removed(NS, pod, Tier.TIER_GPU, k));
                      }
                    }
                  }));
        }
        long[] prompt = new long[blocksPerPod];
        for (int i = 0; i < prompt.length; i++) {
          prompt[i] = i;
        }
        long[] keys = index.keysOfPublisherKeys(NS, prompt);
        for (int r = 0; r < 2; r++) {
          fs.add(
              ex.submit(
                  () -> {
                    for (int q = 0; q < 200; q++) {
                      for (PodMatch m : index.match(NS, keys, List.of())) {
                        if (m.blocks() > blocksPerPod) {
                          throw new AssertionError(m.toString());
                        }
                      }
                    }
                  }));
        }
        for (Future<?> f : fs) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        ex.shutdownNow();
      }
      Map<String, PodMatch> m = new TreeMap<>();
      for (PodMatch pm :
          index.match(NS, index.keysOfPublisherKeys(NS, new long[] {0, 1, 2}), List.of())) {
        m.put(pm.pod(), pm);
      }
      assertEquals(3, m.get("pod0").blocks());
      assertEquals(1, m.get("pod1").blocks());
      assertEquals(1, m.get("pod3").blocks());
      assertEquals(blocksPerPod * (1 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4), index.stats().entries(), 4);
    }
  }

  private static int tierBit(Tier t) {
    return switch (t) {
      case TIER_HOST -> 2;
      case TIER_DISK -> 4;
      default -> 1;
    };
  }
}
