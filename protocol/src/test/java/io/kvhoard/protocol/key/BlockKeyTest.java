package io.kvhoard.protocol.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class BlockKeyTest {
  private static final String HEX =
      "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";

  @Test
  void fromHex_roundTrip_preservesBytes() {
    BlockKey k = BlockKey.fromHex(HEX);
    assertEquals(HEX, k.toHex());
    assertArrayEquals(HexFormat.of().parseHex(HEX), k.toBytes());
    assertEquals(k, BlockKey.of(k.toBytes()));
  }

  @Test
  void eventHash_isLastEightBytesBigEndian() {
    BlockKey k = BlockKey.fromHex(HEX);
    long expected = ByteBuffer.wrap(HexFormat.of().parseHex(HEX), 24, 8).getLong();
    assertEquals(expected, k.eventHash());
    assertEquals("fedcba9876543210", Long.toHexString(k.eventHash()));
  }

  @Test
  void readAndWrite_littleEndianBuffer_byteOrderIgnored() {
    ByteBuffer buf = ByteBuffer.allocateDirect(40).order(ByteOrder.LITTLE_ENDIAN);
    BlockKey k = BlockKey.fromHex(HEX);
    k.writeTo(buf, 8);
    assertEquals((byte) 0x00, buf.get(8));
    assertEquals((byte) 0x10, buf.get(39));
    assertEquals(k, BlockKey.read(buf, 8));
  }

  @Test
  void compareTo_unsignedBytes_highBitSortsLast() {
    BlockKey low = BlockKey.fromHex("7f" + "00".repeat(31));
    BlockKey high = BlockKey.fromHex("80" + "00".repeat(31));
    assertTrue(low.compareTo(high) < 0);
    assertEquals(0, high.compareTo(BlockKey.fromHex("80" + "00".repeat(31))));
  }

  @Test
  void fromHex_wrongLengthOrDigits_failsWithInput() {
    IllegalArgumentException shortHex =
        assertThrows(IllegalArgumentException.class, () -> BlockKey.fromHex("abcd"));
    assertTrue(shortHex.getMessage().contains("64 hex digits"), shortHex.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BlockKey.fromHex("zz".repeat(32)));
    assertThrows(IllegalArgumentException.class, () -> BlockKey.of(new byte[31]));
  }

  @Test
  void hashCode_keysDifferingInAnyOneWord_spreadOverBuckets() {
    for (int word = 0; word < 4; word++) {
      java.util.Set<Integer> buckets = new java.util.HashSet<>();
      for (long n = 0; n < 4096; n++) {
        byte[] b = new byte[32];
        ByteBuffer.wrap(b).putLong(word * 8, n); // a client's counter in one word, zeros elsewhere
        buckets.add(BlockKey.of(b).hashCode() & 1023);
      }
      assertTrue(buckets.size() > 950, "word " + word + ": " + buckets.size() + " of 1024 buckets");
    }
  }
}
