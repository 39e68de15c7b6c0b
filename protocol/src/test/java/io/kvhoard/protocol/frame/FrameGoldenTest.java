package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The worked examples of {@code PROTOCOL.md} section 12. The hex below was produced by a separate
 * Python script written from the specification (bitwise CRC32C, {@code struct.pack('<...')}), not
 * by the codec; the expected field values are literals.
 */
class FrameGoldenTest {
  private static final HexFormat HEX = HexFormat.of();

  static final byte[] PING_REQUEST_ID_1 =
      HEX.parseHex(
          "4b5648460102000001000000000000000000000000000000"
              + "000000000000000000000000000000000000000000000000"
              + "000000007b2f3496");

  static final byte[] PUT_REQUEST_TWO_BLOCKS =
      HEX.parseHex(
          "4b5648460104000008070605040302010000000002000000"
              + "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf600000000d000000"
              + "00000000afd7ce1f"
              + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
              + "050000004cbb719a0000000000000000"
              + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
              + "080000007e0ef2a20000000000000000"
              + "68656c6c6f6b76686f61726421");

  static final byte[] ERROR_UNKNOWN_OPCODE =
      HEX.parseHex(
          "4b5648460100010007000000000000000300000000000000"
              + "000000000000000000000000000000000000000010000000"
              + "000000002e2b1ddc756e6b6e6f776e206f70636f64652039");

  private static byte[] range(int from, int to) {
    byte[] b = new byte[to - from];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (from + i);
    }
    return b;
  }

  @Test
  void crc32c_standardCheckInput_isCastagnoliCheckValue() {
    byte[] input = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xE3069283, FrameCodec.crc32c(Unpooled.wrappedBuffer(input), 0, input.length));
    var direct = Unpooled.directBuffer(9).writeBytes(input);
    assertEquals(0xE3069283, FrameCodec.crc32c(direct, 0, 9));
    assertTrue(direct.release());
  }

  @Test
  void encode_pingRequest_equalsGoldenBytes() {
    assertArrayEquals(PING_REQUEST_ID_1, Channels.encode(Frame.ping(1, Unpooled.EMPTY_BUFFER)));
  }

  @Test
  void encode_putRequestWithTwoBlocks_equalsGoldenBytes() {
    byte[] p0 = "hello".getBytes(StandardCharsets.US_ASCII);
    byte[] p1 = "kvhoard!".getBytes(StandardCharsets.US_ASCII);
    Frame frame;
    try (FrameBuilder b =
        Frame.newRequest(
            Opcode.PUT,
            0x0102030405060708L,
            NamespaceId.of(range(0xA0, 0xB0)),
            ByteBufAllocator.DEFAULT)) {
      frame =
          b.addPut(range(0x00, 0x20), Unpooled.wrappedBuffer(p0), 0x9a71bb4c)
              .addPut(range(0x20, 0x40), Unpooled.wrappedBuffer(p1), 0xa2f20e7e)
              .build();
    }
    assertArrayEquals(PUT_REQUEST_TWO_BLOCKS, Channels.encode(frame));
  }

  @Test
  void encode_errorForUnknownOpcode_equalsGoldenBytes() {
    Frame frame =
        Frame.error(
            Opcode.NONE,
            7,
            FrameStatus.UNKNOWN_OPCODE,
            "unknown opcode 9",
            ByteBufAllocator.DEFAULT);
    assertArrayEquals(ERROR_UNKNOWN_OPCODE, Channels.encode(frame));
  }

  @Test
  void decode_goldenPutRequest_yieldsTheDocumentedFields() {
    List<Object> out = Channels.decode(PUT_REQUEST_TWO_BLOCKS);
    assertEquals(1, out.size());
    Frame f = assertInstanceOf(Frame.class, out.get(0));
    assertEquals(1, f.version());
    assertEquals(Opcode.PUT, f.opcode());
    assertEquals(false, f.isResponse());
    assertEquals(0x0102030405060708L, f.requestId());
    assertEquals(FrameStatus.OK, f.status());
    assertArrayEquals(range(0xA0, 0xB0), f.namespaceId().toBytes());
    assertEquals(2, f.blockCount());
    assertEquals(96, f.descriptorLength());
    assertEquals(13, f.payloadLength());
    assertEquals(165, f.frameLength());
    assertArrayEquals(range(0x00, 0x20), f.key(0));
    assertArrayEquals(range(0x20, 0x40), f.key(1));
    assertEquals(5, f.blockLength(0));
    assertEquals(8, f.blockLength(1));
    assertEquals(0x9a71bb4c, f.blockCrc(0));
    assertEquals(0xa2f20e7e, f.blockCrc(1));
    assertEquals(BlockStatus.OK, f.blockStatus(1));
    assertEquals(BlockTier.UNKNOWN, f.blockTier(1));
    assertEquals(5, f.blockPayloadOffset(1));
    assertEquals("hello", f.blockPayload(0).toString(StandardCharsets.US_ASCII));
    assertEquals("kvhoard!", f.blockPayload(1).toString(StandardCharsets.US_ASCII));
    assertTrue(f.blockPayloadMatchesCrc(0));
    assertTrue(f.blockPayloadMatchesCrc(1));
    assertTrue(f.release());
  }

  @Test
  void decode_goldenPingAndError_yieldTheDocumentedFields() {
    List<Object> out = Channels.decode(RawFrame.concat(PING_REQUEST_ID_1, ERROR_UNKNOWN_OPCODE));
    assertEquals(2, out.size());
    Frame ping = assertInstanceOf(Frame.class, out.get(0));
    assertEquals(Opcode.PING, ping.opcode());
    assertEquals(1, ping.requestId());
    assertEquals(0, ping.payloadLength());
    assertTrue(ping.namespaceId().isZero());
    Frame error = assertInstanceOf(Frame.class, out.get(1));
    assertTrue(error.isResponse());
    assertTrue(error.isError());
    assertEquals(Opcode.NONE, error.opcode());
    assertEquals(7, error.requestId());
    assertEquals(FrameStatus.UNKNOWN_OPCODE, error.status());
    assertEquals("unknown opcode 9", error.errorMessage());
    assertArrayEquals(
        "unknown opcode 9".getBytes(StandardCharsets.UTF_8), ByteBufUtil.getBytes(error.payload()));
    Channels.releaseAll(out);
  }
}
