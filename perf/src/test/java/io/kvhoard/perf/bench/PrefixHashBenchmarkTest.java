package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The benchmark's baseline must hash exactly the bytes the hasher hashes (setup checks it). */
class PrefixHashBenchmarkTest {
  @Test
  void setup_bothBlockSizes_baselineBytesMatchHasher() throws Exception {
    for (String ids : new String[] {"text", "uniform"}) {
      for (int size : new int[] {16, 256}) {
        PrefixHashBenchmark b = new PrefixHashBenchmark();
        b.blockSize = size;
        b.tokenIds = ids;
        b.setup();
        assertEquals(PrefixHashBenchmark.TOKENS / size, b.hash().size());
        b.baselineSha256();
      }
    }
  }
}
