package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.NamespaceId;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** FrameLimits, Hello, NamespaceId, FrameError and the code enums. */
class FrameValuesTest {

  @Test
  void frameLimits_default_is256MiBAnd65536Blocks() {
    assertEquals(268_435_456, FrameLimits.DEFAULT.maxFrameBytes());
    assertEquals(65_536, FrameLimits.DEFAULT.maxBlocksPerFrame());
  }

  @Test
  void frameLimits_outOfRange_throwWithTheAllowedRangeAndTheValue() {
    IllegalArgumentException small =
        assertThrows(IllegalArgumentException.class, () -> new FrameLimits(4095, 1));
    assertEquals(
        "maxFrameBytes must be in [4096, 1073741824] (header included), got 4095",
        small.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new FrameLimits((1 << 30) + 1, 1));
    IllegalArgumentException blocks =
        assertThrows(IllegalArgumentException.class, () -> new FrameLimits(4096, 0));
    assertEquals("maxBlocksPerFrame must be in [1, 1048576], got 0", blocks.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new FrameLimits(4096, (1 << 20) + 1));
    new FrameLimits(4096, 1);
    new FrameLimits(1 << 30, 1 << 20);
  }

  @Test
  void frameLimits_intersect_takesTheSmallerOfEach() {
    FrameLimits a = new FrameLimits(1 << 20, 10);
    FrameLimits b = new FrameLimits(1 << 16, 100);
    assertEquals(new FrameLimits(1 << 16, 10), a.intersect(b));
    assertEquals(a.intersect(b), b.intersect(a));
  }

  @Test
  void hello_invalidVersionRange_throws() {
    assertThrows(IllegalArgumentException.class, () -> new Hello(0, 1, FrameLimits.DEFAULT));
    assertThrows(IllegalArgumentException.class, () -> new Hello(2, 1, FrameLimits.DEFAULT));
    assertThrows(IllegalArgumentException.class, () -> new Hello(1, 256, FrameLimits.DEFAULT));
    assertThrows(NullPointerException.class, () -> new Hello(1, 1, null));
  }

  @Test
  void hello_negotiate_choosesTheHighestCommonVersionOrNothing() {
    Hello client = new Hello(1, 3, FrameLimits.DEFAULT);
    assertEquals(OptionalInt.of(3), client.negotiate(new Hello(2, 5, FrameLimits.DEFAULT)));
    assertEquals(OptionalInt.of(2), client.negotiate(new Hello(2, 2, FrameLimits.DEFAULT)));
    assertEquals(OptionalInt.empty(), client.negotiate(new Hello(4, 5, FrameLimits.DEFAULT)));
    Hello ours = Hello.of(FrameLimits.DEFAULT);
    assertEquals(OptionalInt.of(FrameCodec.MAX_VERSION), ours.negotiate(ours));
  }

  @Test
  void namespaceId_bytes_roundTripAndCompareByValue() {
    byte[] bytes = RawFrame.bytes(16, 11);
    NamespaceId id = NamespaceId.of(bytes);
    assertArrayEquals(bytes, id.toBytes());
    assertEquals(id, NamespaceId.of(bytes.clone()));
    assertEquals(id.hashCode(), NamespaceId.of(bytes.clone()).hashCode());
    assertNotEquals(id, NamespaceId.ZERO);
    assertTrue(NamespaceId.of(new byte[16]).isZero());
    assertEquals("000102030405060708090a0b0c0d0e0f", NamespaceId.of(range16()).toString());
    assertThrows(IllegalArgumentException.class, () -> NamespaceId.of(new byte[15]));
  }

  private static byte[] range16() {
    byte[] b = new byte[16];
    for (int i = 0; i < 16; i++) {
      b[i] = (byte) i;
    }
    return b;
  }

  @Test
  void frameError_withStatusOk_isRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new FrameError(FrameStatus.OK, 1, Opcode.GET, false, true, "x"));
  }

  @Test
  void codes_matchTheSpecification() {
    // PROTOCOL.md sections 4 and 7; written out so that a renumbering fails here.
    int[] opcodes = {0, 1, 2, 3, 4, 5, 6};
    for (int i = 0; i < opcodes.length; i++) {
      assertEquals(opcodes[i], Opcode.values()[i].code());
      assertEquals(Opcode.values()[i], Opcode.byCode(opcodes[i]));
    }
    assertEquals(8, FrameStatus.NAMESPACE_UNKNOWN.code());
    assertEquals(5, FrameStatus.BAD_HEADER_CHECKSUM.code());
    assertEquals(5, BlockStatus.EXISTS.code());
    assertEquals(6, BlockStatus.ERROR.code());
    assertEquals(3, BlockTier.DISK.code());
    assertEquals(null, Opcode.byCode(7));
    assertEquals(null, FrameStatus.byCode(9));
    assertEquals(null, BlockStatus.byCode(7));
    assertEquals(null, BlockTier.byCode(4));
    assertEquals(null, Opcode.byCode(-1));
  }
}
