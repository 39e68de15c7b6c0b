package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.server.store.BlockLease;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark's writes keep the data set bounded, its reads return the block's bytes on both
 * sides, and each trial leaves nothing behind (a small data set in a temporary directory).
 */
class DiskTierBenchmarkTest {
  private static final int BLOCK = 256 * 1024;

  @TempDir Path temp;

  private DiskTierBenchmark.Config config(String op) {
    DiskTierBenchmark.Config c = new DiskTierBenchmark.Config();
    c.blockBytes = BLOCK;
    c.op = op;
    c.parent = temp;
    c.liveBytes = 4L * BLOCK;
    c.readSetBytes = 3L * BLOCK;
    c.freeBytesNeeded = 0;
    return c;
  }

  @Test
  void write_moreBlocksThanLive_tierHoldsOnlyTheLiveOnesAndTrialCleansUp() throws Exception {
    DiskTierBenchmark.Config c = config("write");
    DiskTierBenchmark b = new DiskTierBenchmark();
    DiskTierBenchmark.TierState s = new DiskTierBenchmark.TierState();
    DiskTierBenchmark.RawState r = new DiskTierBenchmark.RawState();
    s.open(c);
    r.open(c);
    try {
      for (int i = 0; i < 10; i++) {
        b.tier(c, s);
        b.baselineFileChannel(c, r);
      }
      assertEquals(4, s.tier.blockCount(), "older blocks are removed");
      assertEquals(4L * BLOCK, s.tier.usedBytes());
      assertEquals(s.tier.directIo(), r.direct, "the baseline uses the tier's direct-I/O setting");
      assertEquals(10L * BLOCK, r.outPosition, "one file until it holds a memtable's bytes");
    } finally {
      s.close();
      r.close();
    }
    assertEmpty(temp);
  }

  @Test
  void read_cyclesThroughTheSet_sameBytesOnBothSidesAndTrialCleansUp() throws Exception {
    DiskTierBenchmark.Config c = config("read");
    byte[] expected = c.data();
    DiskTierBenchmark b = new DiskTierBenchmark();
    DiskTierBenchmark.TierState s = new DiskTierBenchmark.TierState();
    DiskTierBenchmark.RawState r = new DiskTierBenchmark.RawState();
    s.open(c);
    r.open(c);
    try {
      assertEquals(3, s.tier.blockCount());
      for (int i = 0; i < 7; i++) {
        assertEquals(BLOCK, b.tier(c, s));
        assertEquals((i % 3L) * BLOCK, b.baselineFileChannel(c, r));
        byte[] raw = new byte[BLOCK];
        r.block.duplicate().clear().get(raw);
        assertArrayEquals(expected, raw, "the baseline reads the block's bytes");
      }
      BlockLease lease = s.tier.read(s.readSet[0]).join();
      try {
        byte[] got = new byte[BLOCK];
        lease.content().getBytes(0, got);
        assertArrayEquals(expected, got, "the tier holds the same bytes");
      } finally {
        lease.release();
      }
      assertEquals(0, s.tier.checksumFailures());
    } finally {
      s.close();
      r.close();
    }
    assertEmpty(temp);
  }

  @Test
  void orderedKey_ascendsInUnsignedByteOrder_soTheSetLiesOnDiskInReadOrder() {
    for (long i = 0; i < 5000; i++) {
      assertTrue(
          DiskTierBenchmark.TierState.orderedKey(i)
                  .key()
                  .compareTo(DiskTierBenchmark.TierState.orderedKey(i + 1).key())
              < 0,
          "key " + i);
    }
  }

  @Test
  void newDirectory_tooLittleFreeSpace_failsSayingWhatToDo() {
    DiskTierBenchmark.Config c = config("write");
    c.freeBytesNeeded = Long.MAX_VALUE;
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.newDirectory("x"));
    assertTrue(e.getMessage().contains("-Djava.io.tmpdir"), e.getMessage());
  }

  private static void assertEmpty(Path dir) throws Exception {
    try (Stream<Path> left = Files.list(dir)) {
      assertFalse(left.findAny().isPresent(), "the trial deleted its directory");
    }
  }
}
