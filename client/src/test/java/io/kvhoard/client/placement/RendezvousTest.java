package io.kvhoard.client.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.PrefixHasher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousTest {
  static final int KEYS = 30_000;

  static List<BlockKey> keys() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("7").blockSize(4).build();
    long[] tokens = new long[KEYS * 4];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = i * 7919L % 151_000;
    }
    return h.hash(tokens);
  }

  static List<ServerAddress> servers(int n) {
    List<ServerAddress> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      s.add(new ServerAddress("10.0.0." + (i + 1), 7470));
    }
    return s;
  }

  @Test
  void owner_threeServers_spreadsKeysEvenly() {
    Map<ServerAddress, Integer> count = new HashMap<>();
    for (BlockKey k : keys()) {
      count.merge(Rendezvous.owner(k, servers(3)), 1, Integer::sum);
    }
    assertEquals(3, count.size());
    for (int c : count.values()) {
      assertTrue(Math.abs(c - KEYS / 3.0) < KEYS * 0.03, "uneven share: " + count);
    }
  }

  @Test
  void owner_serverAdded_movesOnlyItsShareAndOnlyToIt() {
    List<ServerAddress> three = servers(3);
    List<ServerAddress> four = servers(4);
    int moved = 0;
    for (BlockKey k : keys()) {
      ServerAddress before = Rendezvous.owner(k, three);
      ServerAddress after = Rendezvous.owner(k, four);
      if (!before.equals(after)) {
        moved++;
        assertEquals(four.get(3), after, "a key moved between two old servers");
      }
    }
    assertTrue(Math.abs(moved - KEYS / 4.0) < KEYS * 0.03, "moved " + moved + " of " + KEYS);
  }

  @Test
  void owner_serverRemoved_movesOnlyItsKeys() {
    List<ServerAddress> three = servers(3);
    List<ServerAddress> two = List.of(three.get(0), three.get(2));
    for (BlockKey k : keys()) {
      ServerAddress before = Rendezvous.owner(k, three);
      ServerAddress after = Rendezvous.owner(k, two);
      if (!before.equals(three.get(1))) {
        assertEquals(before, after, "a key of a remaining server moved");
      } else {
        // its new owner is its second choice among the three
        assertEquals(Rendezvous.rank(k, three, 2).get(1), after);
      }
    }
  }

  @Test
  void rank_replicas_distinctServersHighestFirstAndOwnerFirst() {
    List<ServerAddress> five = servers(5);
    for (BlockKey k : keys().subList(0, 2000)) {
      List<ServerAddress> r = Rendezvous.rank(k, five, 3);
      assertEquals(3, r.size());
      assertEquals(3, r.stream().distinct().count());
      assertEquals(Rendezvous.owner(k, five), r.get(0));
      assertEquals(r.subList(0, 2), Rendezvous.rank(k, five, 2));
    }
  }

  @Test
  void rank_moreReplicasThanServers_returnsAll() {
    BlockKey k = keys().get(0);
    assertEquals(2, Rendezvous.rank(k, servers(2), 5).size());
    assertThrows(IllegalArgumentException.class, () -> Rendezvous.rank(k, servers(2), 0));
    assertNull(Rendezvous.owner(k, List.of()));
  }

  @Test
  void owner_serverOrder_doesNotMatter() {
    List<ServerAddress> s = servers(4);
    List<ServerAddress> reversed = new ArrayList<>(s);
    java.util.Collections.reverse(reversed);
    for (BlockKey k : keys().subList(0, 1000)) {
      assertEquals(Rendezvous.owner(k, s), Rendezvous.owner(k, reversed));
    }
  }
}
