package io.kvhoard.server.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The block table against a plain map model: seeded random puts and removals of keys held by many
 * lanes (the shape of a long prompt many pods hold), in a small segment whose runs wrap around its
 * end, must return exactly the model's lanes and tiers for every key, though lookups stop early.
 */
class BlockTableTest {
  private static final int LANES = 12;

  private static Map<Integer, Integer> lookup(BlockTable t, long key, BlockTable.Scratch s) {
    Map<Integer, Integer> got = new TreeMap<>();
    int n = t.get(key, s);
    for (int i = 0; i < n; i++) {
      Integer old = got.put(BlockTable.lane(s.values[i]), BlockTable.tiers(s.values[i]));
      assertEquals(null, old, "two entries of one (key, lane)");
    }
    return got;
  }

  @Test
  void putRemove_manyLanesPerKey_lookupsMatchModel() {
    Lanes lanes = new Lanes();
    for (int l = 0; l < LANES; l++) {
      lanes.open();
    }
    // one segment of about 1,400 slots; keys whose low bits crowd the last slots wrap around
    BlockTable table = new BlockTable(1_000, 0, lanes);
    Map<Long, Map<Integer, Integer>> model = new HashMap<>();
    SplittableRandom rnd = new SplittableRandom(11);
    List<Long> keys = new ArrayList<>();
    for (int k = 0; k < 150; k++) {
      long key = rnd.nextLong();
      if (k % 5 == 0) {
        key = (key & ~0xFFFF_FFFFL) | 0xFFFF_FF00L | k; // home slot at the segment's end
      }
      keys.add(key);
    }
    BlockTable.Scratch s = new BlockTable.Scratch();
    int gen0 = lanes.generation(0);
    for (int step = 0; step < 20_000; step++) {
      long key = keys.get(rnd.nextInt(keys.size()));
      int lane = rnd.nextInt(LANES);
      int tiers = 1 << rnd.nextInt(3);
      Map<Integer, Integer> held = model.computeIfAbsent(key, k -> new TreeMap<>());
      if (rnd.nextInt(3) > 0) {
        if (held.size() + model.values().stream().mapToInt(Map::size).sum() < 1_000) {
          table.put(key, lane, lanes.generation(lane), tiers);
          held.merge(lane, tiers, (a, b) -> a | b);
        }
      } else {
        table.remove(key, lane, tiers);
        Integer left = held.get(lane);
        if (left != null) {
          if ((left & ~tiers) == 0) {
            held.remove(lane);
          } else {
            held.put(lane, left & ~tiers);
          }
        }
      }
      if (step % 97 == 0) {
        for (long k : keys) {
          assertEquals(
              model.getOrDefault(k, Map.of()), lookup(table, k, s), "step " + step + " key " + k);
        }
      }
    }
    assertEquals(model.values().stream().mapToInt(Map::size).sum(), table.size());
    assertEquals(0, table.evicted.sum());
    assertEquals(gen0, lanes.generation(0));
    table.release();
  }

  @Test
  void put_deadEntriesOnTheWay_reclaimedAndLiveEntriesStillFound() {
    Lanes lanes = new Lanes();
    int a = lanes.open();
    int b = lanes.open();
    BlockTable table = new BlockTable(120, 0, lanes);
    long[] keys = new long[40];
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < keys.length; i++) {
      keys[i] = rnd.nextLong();
      table.put(keys[i], a, lanes.generation(a), BlockTable.TIER_GPU);
      table.put(keys[i], b, lanes.generation(b), BlockTable.TIER_HOST);
    }
    lanes.clear(a); // every entry of lane a dies
    for (long k : keys) {
      table.put(k ^ 1, b, lanes.generation(b), BlockTable.TIER_DISK);
    }
    BlockTable.Scratch s = new BlockTable.Scratch();
    for (long k : keys) {
      Map<Integer, Integer> host = lookup(table, k, s);
      assertEquals(BlockTable.TIER_HOST, host.get(b), "key " + k);
      assertEquals(Map.of(b, BlockTable.TIER_DISK), lookup(table, k ^ 1, s));
    }
    assertTrue(table.reclaimed.sum() > 0, "reclaimed " + table.reclaimed.sum());
    assertEquals(0, table.evicted.sum());
    table.release();
  }
}
