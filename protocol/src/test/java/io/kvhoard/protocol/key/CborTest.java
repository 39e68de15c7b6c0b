package io.kvhoard.protocol.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CborTest {
  private static String uint(long v) {
    byte[] buf = new byte[9];
    return HexFormat.of().formatHex(Arrays.copyOf(buf, Cbor.head(buf, 0, 0, v)));
  }

  @Test
  void head_boundaries_rfc8949Examples() {
    // RFC 8949 Appendix A.
    assertEquals("00", uint(0));
    assertEquals("17", uint(23));
    assertEquals("1818", uint(24));
    assertEquals("1864", uint(100));
    assertEquals("1903e8", uint(1000));
    assertEquals("1a000f4240", uint(1000000));
    assertEquals("1b000000e8d4a51000", uint(1000000000000L));
    assertEquals("1bffffffffffffffff", uint(-1L)); // 18446744073709551615
  }

  @Test
  void uintPacked_anyValue_sameBytesAsHead() {
    SplittableRandom r = new SplittableRandom(7);
    long[] edges = {0, 23, 24, 255, 256, 65535, 65536, 0xFFFFFFFFL, 1L << 32, Long.MAX_VALUE, -1};
    for (int i = 0; i < 100_000; i++) {
      long v = i < edges.length ? edges[i] : r.nextLong() >>> r.nextInt(64);
      byte[] a = new byte[16];
      byte[] b = new byte[16];
      int na = Cbor.head(a, 0, 0, v);
      int nb = Cbor.uintPacked(b, 0, v);
      assertEquals(na, nb, "length for " + Long.toUnsignedString(v));
      assertArrayEquals(Arrays.copyOf(a, na), Arrays.copyOf(b, nb), Long.toUnsignedString(v));
    }
  }
}
