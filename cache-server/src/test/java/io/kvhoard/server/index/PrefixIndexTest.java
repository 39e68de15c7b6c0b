package io.kvhoard.server.index;

import static io.kvhoard.server.index.Events.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PrefixIndexTest {
  private final AtomicLong now = new AtomicLong();

  private PrefixIndex index(long capacity) {
    return PrefixIndex.newBuilder()
        .capacity(capacity)
        .blockTokens(16)
        .podTtl(Duration.ofSeconds(60))
        .clock(now::get)
        .build();
  }

  private static Map<String, PodMatch> byPod(List<PodMatch> matches) {
    Map<String, PodMatch> m = new TreeMap<>();
    for (PodMatch p : matches) {
      m.put(p.pod(), p);
    }
    return m;
  }

  private static Map<String, PodMatch> match(PrefixIndex index, long[] prompt) {
    return byPod(index.match(NS, index.keysOfTokens(NS, prompt, prompt.length), List.of()));
  }

  @Test
  void match_keyOnlyEvents_leadingBlocksPerPodStopAtFirstGap() {
    try (PrefixIndex index = index(1000)) {
      index.accept(Events.storedKeys(NS, "a", Tier.TIER_GPU, 1, 2, 3));
      index.accept(Events.storedKeys(NS, "b", Tier.TIER_GPU, 1, 3));
      Map<String, PodMatch> m =
          byPod(index.match(NS, index.keysOfPublisherKeys(NS, new long[] {1, 2, 3}), List.of()));
      assertEquals(new PodMatch("a", 3, 3, 0, 0), m.get("a"));
      assertEquals(new PodMatch("b", 1, 1, 0, 0), m.get("b"));
    }
  }

  @Test
  void match_sameTokensDifferentEngineBlockSizes_samePrefixForEveryPod() {
    try (PrefixIndex index = index(1000)) {
      long[] t = Events.tokens(100, 64);
      // pod a: vLLM blocks of 16 (4 blocks); b: 32 (2 blocks); c: 8, in two events chained by
      // parent
      index.accept(Events.stored(NS, "a", new long[] {11, 12, 13, 14}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.stored(NS, "b", new long[] {21, 22}, -1, t, 32, Tier.TIER_GPU));
      index.accept(
          Events.stored(
              NS, "c", new long[] {31, 32, 33}, -1, Arrays.copyOf(t, 24), 8, Tier.TIER_GPU));
      index.accept(
          Events.stored(
              NS,
              "c",
              new long[] {34, 35, 36, 37, 38},
              33,
              Arrays.copyOfRange(t, 24, 64),
              8,
              Tier.TIER_GPU));
      Map<String, PodMatch> m = match(index, t);
      assertEquals(4, m.get("a").blocks());
      assertEquals(4, m.get("b").blocks());
      assertEquals(4, m.get("c").blocks());
      // a prompt that diverges in block 3 matches 2 blocks everywhere
      long[] other = t.clone();
      other[40] = 999_999;
      Map<String, PodMatch> m2 = match(index, other);
      assertEquals(2, m2.get("a").blocks());
      assertEquals(2, m2.get("b").blocks());
      assertEquals(2, m2.get("c").blocks());
    }
  }

  @Test
  void removed_engineKeyOfTwoCanonicalBlocks_dropsBoth() {
    try (PrefixIndex index = index(1000)) {
      long[] t = Events.tokens(0, 64);
      index.accept(Events.stored(NS, "b", new long[] {21, 22}, -1, t, 32, Tier.TIER_GPU));
      index.accept(Events.removed(NS, "b", Tier.TIER_GPU, 22));
      assertEquals(2, match(index, t).get("b").blocks());
      index.accept(Events.removed(NS, "b", Tier.TIER_GPU, 21));
      assertEquals(0, match(index, t).get("b").blocks());
      assertEquals(0, index.stats().entries());
      assertEquals(0, index.stats().engineEntries());
    }
  }

  @Test
  void tiers_storedOnGpuAndHostRemovedFromGpu_countsHost() {
    try (PrefixIndex index = index(1000)) {
      long[] t = Events.tokens(0, 32);
      index.accept(Events.stored(NS, "a", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.stored(NS, "a", new long[] {1, 2}, -1, t, 16, Tier.TIER_HOST));
      index.accept(
          Events.stored(NS, "d", new long[] {1}, -1, Arrays.copyOf(t, 16), 16, Tier.TIER_DISK));
      assertEquals(new PodMatch("a", 2, 2, 0, 0), match(index, t).get("a"));
      index.accept(Events.removed(NS, "a", Tier.TIER_GPU, 2));
      assertEquals(new PodMatch("a", 2, 1, 1, 0), match(index, t).get("a"));
      assertEquals(new PodMatch("d", 1, 0, 0, 1), match(index, t).get("d"));
      index.accept(Events.removed(NS, "a", Tier.TIER_UNSPECIFIED, 1));
      assertEquals(0, match(index, t).get("a").blocks());
    }
  }

  @Test
  void namespaces_sameTokensOtherLoraOrSalt_noMatch() {
    try (PrefixIndex index = index(1000)) {
      long[] t = Events.tokens(0, 32);
      Namespace lora = NS.toBuilder().setLoraName("sql").build();
      Namespace salt = NS.toBuilder().setCacheSalt("tenant-2").build();
      index.accept(Events.stored(lora, "a", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.stored(salt, "b", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      assertTrue(match(index, t).isEmpty());
      assertEquals(
          2,
          byPod(index.match(lora, index.keysOfTokens(lora, t, 32), List.of())).get("a").blocks());
      // layout and hash seed are not part of the routing namespace
      Namespace seeded = lora.toBuilder().setHashSeed("42").build();
      assertEquals(
          2,
          byPod(index.match(seeded, index.keysOfTokens(seeded, t, 32), List.of()))
              .get("a")
              .blocks());
    }
  }

  @Test
  void cleared_withoutNamespace_dropsEveryNamespaceOfThePod() {
    try (PrefixIndex index = index(1000)) {
      long[] t = Events.tokens(0, 32);
      Namespace other = NS.toBuilder().setModelId("qwen").build();
      index.accept(Events.stored(NS, "a", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.stored(other, "a", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.stored(NS, "b", new long[] {1, 2}, -1, t, 16, Tier.TIER_GPU));
      index.accept(Events.cleared(other, "a"));
      assertEquals(2, match(index, t).get("a").blocks());
      assertEquals(
          0,
          byPod(index.match(other, index.keysOfTokens(other, t, 32), List.of())).get("a").blocks());
      index.accept(Events.cleared(null, "a"));
      assertEquals(0, match(index, t).get("a").blocks());
      assertEquals(2, match(index, t).get("b").blocks());
      // the pod stores again after the clear: a new chain (its old engine keys are gone)
      index.accept(
          Events.stored(NS, "a", new long[] {5}, 2, Events.tokens(32, 16), 16, Tier.TIER_GPU));
      assertEquals(1, index.stats().eventsDropped());
      index.accept(
          Events.stored(NS, "a", new long[] {1}, -1, Arrays.copyOf(t, 16), 16, Tier.TIER_GPU));
      assertEquals(1, match(index, t).get("a").blocks());
    }
  }

  @Test
  void ttl_podSilentForTtl_leavesScoresAndItsEntriesAreReclaimed() {
    try (PrefixIndex index = index(64)) {
      index.accept(Events.storedKeys(NS, "old", Tier.TIER_GPU, 1, 2, 3, 4, 5, 6, 7, 8));
      now.addAndGet(Duration.ofSeconds(59).toNanos());
      index.accept(Events.storedKeys(NS, "new", Tier.TIER_GPU, 1));
      long[] keys = index.keysOfPublisherKeys(NS, new long[] {1, 2});
      assertEquals(2, byPod(index.match(NS, keys, List.of())).get("old").blocks());
      now.addAndGet(Duration.ofSeconds(2).toNanos());
      assertEquals(List.of("new"), index.pods(NS));
      assertEquals(
          Map.of("new", new PodMatch("new", 1, 1, 0, 0)), byPod(index.match(NS, keys, List.of())));
      // an event a quarter TTL after the last sweep sweeps: "old" is forgotten, and filling the
      // table reclaims its entries
      now.addAndGet(Duration.ofSeconds(15).toNanos());
      for (int i = 0; i < 100; i++) {
        index.accept(Events.storedKeys(NS, "new", Tier.TIER_GPU, 1000 + i));
      }
      IndexStats s = index.stats();
      assertTrue(s.reclaimed() >= 8, "reclaimed " + s.reclaimed());
      assertEquals(1, s.pods());
    }
  }

  @Test
  void capacity_full_evictsOldestAndCounts() {
    try (PrefixIndex index = index(100)) {
      for (int i = 1; i <= 1000; i++) {
        index.accept(Events.storedKeys(NS, "a", Tier.TIER_GPU, i));
      }
      IndexStats s = index.stats();
      assertTrue(s.entries() <= s.capacity(), s.toString());
      assertTrue(s.capacity() >= 100 && s.capacity() < 120, s.toString());
      assertEquals(1000 - s.entries(), s.evictions());
      // the newest survive: sampling evicts old stamps first
      long[] newest = index.keysOfPublisherKeys(NS, new long[] {1000});
      assertEquals(1, byPod(index.match(NS, newest, List.of())).get("a").blocks());
    }
  }

  @Test
  void accept_malformedEvents_countedNotThrown() {
    try (PrefixIndex index = index(1000)) {
      index.accept(BlockEvent.getDefaultInstance()); // no pod, no event
      index.accept(Events.storedKeys(NS, "", Tier.TIER_GPU, 1)); // no pod
      index.accept(
          BlockEvent.newBuilder().setPod("a").setStored(BlockStored.getDefaultInstance()).build());
      index.accept( // 3 tokens for 2 keys of 16
          Events.stored(NS, "a", new long[] {1, 2}, -1, new long[] {1, 2, 3}, 16, Tier.TIER_GPU));
      index.accept(
          BlockEvent.newBuilder()
              .setPod("a")
              .setStored(BlockStored.newBuilder().addKeys(BlockKey.getDefaultInstance()))
              .build()); // empty key
      IndexStats s = index.stats();
      assertEquals(5, s.eventsMalformed());
      assertEquals(0, s.eventsApplied());
      assertEquals(0, s.entries());
    }
  }

  @Test
  void match_candidates_unknownPodReportedWithNoBlocksOthersLeftOut() {
    try (PrefixIndex index = index(1000)) {
      index.accept(Events.storedKeys(NS, "a", Tier.TIER_GPU, 1));
      index.accept(Events.storedKeys(NS, "b", Tier.TIER_GPU, 1));
      long[] keys = index.keysOfPublisherKeys(NS, new long[] {1});
      Map<String, PodMatch> m = byPod(index.match(NS, keys, List.of("b", "z")));
      assertEquals(
          Map.of("b", new PodMatch("b", 1, 1, 0, 0), "z", new PodMatch("z", 0, 0, 0, 0)), m);
    }
  }

  @Test
  void close_thenMatch_throws() {
    PrefixIndex index = index(100);
    index.close();
    index.close();
    assertThrows(IllegalStateException.class, () -> index.match(NS, new long[] {1}, List.of()));
  }

  @Test
  void builder_badSettings_rejectedEagerly() {
    assertThrows(IllegalArgumentException.class, () -> PrefixIndex.newBuilder().capacity(1));
    assertThrows(IllegalArgumentException.class, () -> PrefixIndex.newBuilder().blockTokens(0));
    assertThrows(IllegalArgumentException.class, () -> PrefixIndex.newBuilder().blockTokens(257));
    assertThrows(
        IllegalArgumentException.class, () -> PrefixIndex.newBuilder().podTtl(Duration.ZERO));
  }
}
