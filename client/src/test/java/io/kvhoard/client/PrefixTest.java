package io.kvhoard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvhoard.client.transport.Slot;
import io.kvhoard.protocol.key.BlockKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The contiguous-prefix rule and how a server's blocks are dealt to connections. */
class PrefixTest {
  static byte[] codes(byte... c) {
    return c;
  }

  @Test
  void prefix_stopsAtTheFirstBlockNotOk_whateverFollows() {
    byte ok = Transfers.OK;
    assertEquals(3, KvHoardClient.prefix(codes(ok, ok, ok), 3));
    assertEquals(0, KvHoardClient.prefix(codes(Transfers.MISSING, ok, ok), 3));
    assertEquals(2, KvHoardClient.prefix(codes(ok, ok, Transfers.CORRUPT, ok, ok), 5));
    assertEquals(1, KvHoardClient.prefix(codes(ok, Transfers.TIMEOUT, ok), 3));
    assertEquals(1, KvHoardClient.prefix(codes(ok, Transfers.PENDING, ok), 3), "never a hole");
    assertEquals(2, KvHoardClient.prefix(codes(ok, ok, ok), 2), "only the first n count");
  }

  @Test
  void stopReason_namesWhyTheBlockFailed() {
    assertEquals(StopReason.MISS, Transfers.stopReason(Transfers.MISSING));
    assertEquals(StopReason.CORRUPT, Transfers.stopReason(Transfers.CORRUPT));
    assertEquals(StopReason.TIMEOUT, Transfers.stopReason(Transfers.TIMEOUT));
    assertEquals(StopReason.SERVER_FAILED, Transfers.stopReason(Transfers.FAILED));
    assertEquals(StopReason.SERVER_FAILED, Transfers.stopReason(Transfers.REFUSED));
  }

  @Test
  void lanes_framesDealtInTurn_soEveryLaneStartsWithEarlyBlocks() {
    // 10 blocks of 1 KiB, 3 KiB frames (3 blocks), 4 connections: frames {0-2} {3-5} {6-8} {9}
    Transfers t = new Transfers(null, 1024, null, null, null, null, 4, 3 * 1024, 2);
    List<List<Slot>> lanes = t.lanes(Transfers.Op.GET, slots(10));
    assertEquals(
        List.of(List.of(0, 1, 2), List.of(3, 4, 5), List.of(6, 7, 8), List.of(9)), indices(lanes));
    // 2 connections: lane 0 gets frames 0 and 2, lane 1 frames 1 and 3
    Transfers two = new Transfers(null, 1024, null, null, null, null, 2, 3 * 1024, 2);
    assertEquals(
        List.of(List.of(0, 1, 2, 6, 7, 8), List.of(3, 4, 5, 9)),
        indices(two.lanes(Transfers.Op.GET, slots(10))));
  }

  @Test
  void lanes_smallBatchOrContains_useOneConnection() {
    Transfers t = new Transfers(null, 1024, null, null, null, null, 4, 16 * 1024, 2);
    assertEquals(1, t.lanes(Transfers.Op.PUT, slots(10)).size());
    assertEquals(1, t.lanes(Transfers.Op.CONTAINS, slots(100)).size());
  }

  static List<Slot> slots(int n) {
    List<Slot> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      s.add(new Slot(i, BlockKey.of(new byte[32]), null));
    }
    return s;
  }

  static List<List<Integer>> indices(List<List<Slot>> lanes) {
    List<List<Integer>> out = new ArrayList<>();
    for (List<Slot> l : lanes) {
      out.add(l.stream().map(Slot::index).toList());
    }
    return out;
  }
}
