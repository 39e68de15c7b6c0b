package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The benchmark's operations round-trip the payload intact and release what they allocate. */
class FrameCodecBenchmarkTest {
  @Test
  void roundTrip_2MiB_payloadLengthKeptAndCrcVerified() {
    FrameCodecBenchmark b = new FrameCodecBenchmark();
    b.payloadBytes = 2 << 20;
    b.setup();
    try {
      assertEquals(2 << 20, b.encodeDecode());
      assertEquals(2 << 20, b.encodeDecodeCrc());
      assertEquals(2 << 20, b.baselineCopy());
    } finally {
      b.tearDown();
    }
  }
}
