package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The benchmark's put + get moves the block intact and leaves the tier empty. */
class HostTierBenchmarkTest {
  @Test
  void putGet_256KiB_bytesIntactAndTierEmptyAfter() throws Exception {
    HostTierBenchmark.Shared s = new HostTierBenchmark.Shared();
    s.blockBytes = 256 * 1024;
    s.open();
    HostTierBenchmark.Buffers b = new HostTierBenchmark.Buffers();
    b.allocate(s);
    try {
      assertEquals(s.blockBytes, new HostTierBenchmark().putGet(s, b));
      byte[] in = new byte[s.blockBytes];
      byte[] out = new byte[s.blockBytes];
      b.src.getBytes(0, in);
      b.dst.getBytes(0, out);
      assertArrayEquals(in, out);
      assertEquals(0, s.tier.blockCount());
      assertEquals(0, s.tier.usedBytes());
    } finally {
      b.free();
      s.close();
    }
  }
}
