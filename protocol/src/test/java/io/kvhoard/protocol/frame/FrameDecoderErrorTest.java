package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every class of decoding error: which status, whether the stream survives, what is released. */
class FrameDecoderErrorTest {
  private static final int PING = 2;
  private static final int GET = 3;
  private static final int PUT = 4;
  private static final int CONTAINS = 5;
  private static final int DELETE = 6;
  private static final int HELLO = 1;

  /** A valid frame that must decode after a recoverable error, and never after a fatal one. */
  private static final byte[] NEXT =
      RawFrame.request(PING).id(100).payload(new byte[] {1, 2}).bytes();

  private static RawFrame getRequest(long id) {
    return RawFrame.request(GET).id(id).descriptor(RawFrame.key(1), 4096, 0, 0, 0);
  }

  private static RawFrame putRequest(long id, byte[] payload) {
    return RawFrame.request(PUT)
        .id(id)
        .descriptor(RawFrame.key(1), payload.length, RawFrame.crc32c(payload), 0, 0)
        .payload(payload);
  }

  private static RawFrame with(RawFrame f, Consumer<RawFrame> change) {
    change.accept(f);
    return f;
  }

  /**
   * Decodes {@code bytes} in 1-byte and 7-byte chunks, checking that the outcome is the same and
   * that every input is released with the outputs; then decodes it whole and returns that output,
   * whose inputs {@link #assertReleased} checks once the caller has released it.
   */
  private List<Object> decodeAllWays(FrameLimits limits, byte[] bytes) {
    List<String> expected = null;
    for (int chunk : new int[] {1, 7, bytes.length}) {
      List<ByteBuf> chunks = new ArrayList<>();
      for (int pos = 0; pos < bytes.length; pos += chunk) {
        chunks.add(Unpooled.copiedBuffer(bytes, pos, Math.min(chunk, bytes.length - pos)));
      }
      List<Object> out = Channels.decode(limits, ByteBufAllocator.DEFAULT, chunks);
      if (expected != null) {
        assertEquals(expected, describe(out), "outcome depends on chunking");
      }
      expected = describe(out);
      if (chunk == bytes.length) {
        lastInputs = chunks;
        return out;
      }
      Channels.releaseAll(out);
      assertReleased(chunks);
    }
    throw new AssertionError("unreachable");
  }

  private List<ByteBuf> lastInputs = List.of();

  private static void assertReleased(List<ByteBuf> inputs) {
    for (ByteBuf in : inputs) {
      assertEquals(0, in.refCnt(), "every input buffer is released");
    }
  }

  /** Releases {@code out} and checks that the inputs of the last whole decode are released. */
  private void releaseAndCheck(List<Object> out) {
    Channels.releaseAll(out);
    assertReleased(lastInputs);
  }

  private static List<String> describe(List<Object> out) {
    List<String> d = new ArrayList<>();
    for (Object o : out) {
      d.add(
          o instanceof FrameError e
              ? e.status() + "/" + e.recoverable() + "/" + e.requestId()
              : o.toString());
    }
    return d;
  }

  private FrameError assertRecoverable(
      FrameLimits limits, byte[] bad, FrameStatus status, long requestId) {
    List<Object> out = decodeAllWays(limits, RawFrame.concat(bad, NEXT));
    assertEquals(2, out.size(), () -> "error then next frame: " + out);
    FrameError e = assertInstanceOf(FrameError.class, out.get(0));
    assertEquals(status, e.status(), e.message());
    assertTrue(e.recoverable(), e.message());
    assertEquals(requestId, e.requestId());
    Frame next = assertInstanceOf(Frame.class, out.get(1));
    assertEquals(100, next.requestId(), "the frame after the rejected one decodes");
    releaseAndCheck(out);
    return e;
  }

  private FrameError assertFatal(FrameLimits limits, byte[] bad, FrameStatus status) {
    // Garbage and a valid frame follow: both must be discarded.
    byte[] garbage = RawFrame.bytes(300, 77);
    List<Object> out = decodeAllWays(limits, RawFrame.concat(bad, garbage, NEXT, NEXT));
    assertEquals(1, out.size(), () -> "one fatal error, nothing after it: " + out);
    FrameError e = assertInstanceOf(FrameError.class, out.get(0));
    assertEquals(status, e.status(), e.message());
    assertFalse(e.recoverable());
    assertTrue(e.fatal());
    releaseAndCheck(out);
    return e;
  }

  @Test
  void decode_badMagic_emitsOneFatalBadFrameAndDiscardsEverythingAfter() {
    byte[] bad = with(getRequest(5), f -> f.magic = 0x4648564C).bytes();
    FrameError e = assertFatal(FrameLimits.DEFAULT, bad, FrameStatus.BAD_FRAME);
    assertEquals(0, e.requestId(), "an untrusted header's id is not reported");
    assertEquals(Opcode.NONE, e.opcode());
  }

  @Test
  void decode_badHeaderCrc_emitsOneFatalErrorAndDiscardsEverythingAfter() {
    byte[] bad = getRequest(5).bytes();
    bad[8] ^= 1; // the request id, covered by the CRC
    FrameError e = assertFatal(FrameLimits.DEFAULT, bad, FrameStatus.BAD_HEADER_CHECKSUM);
    assertEquals(0, e.requestId());
  }

  @Test
  void decode_headerCrcFieldCorrupted_emitsFatalBadHeaderChecksum() {
    byte[] bad = with(getRequest(5), f -> f.headerCrc = 0x12345678).bytes();
    assertFatal(FrameLimits.DEFAULT, bad, FrameStatus.BAD_HEADER_CHECKSUM);
  }

  @Test
  void decode_frameLongerThanLimit_emitsFatalErrorFromTheHeaderAlone() {
    FrameLimits limits = FrameLimits.DEFAULT.withMaxFrameBytes(4096);
    RawFrame big = RawFrame.request(PING).id(9);
    big.payloadLength = 4096 - 56 + 1; // one byte over; the body is never sent
    byte[] header = big.bytes();
    assertEquals(56, header.length);

    EmbeddedChannel ch = Channels.decoderChannel(limits, ByteBufAllocator.DEFAULT);
    ByteBuf in = Unpooled.copiedBuffer(header);
    ch.writeInbound(in);
    FrameError e = assertInstanceOf(FrameError.class, ch.readInbound());
    assertEquals(FrameStatus.FRAME_TOO_LARGE, e.status());
    assertTrue(e.fatal());
    assertEquals(9, e.requestId(), "the header is trusted: its id is reported");
    assertEquals(Opcode.PING, e.opcode());
    assertEquals(0, in.refCnt());
    assertFalse(ch.finish(), "nothing else is emitted");
  }

  @Test
  void decode_frameExactlyAtLimit_isAccepted() {
    FrameLimits limits = FrameLimits.DEFAULT.withMaxFrameBytes(4096);
    byte[] exact = RawFrame.request(PING).id(9).payload(new byte[4096 - 56]).bytes();
    List<Object> out = decodeAllWays(limits, exact);
    assertEquals(1, out.size());
    assertEquals(4096, assertInstanceOf(Frame.class, out.get(0)).frameLength());
    releaseAndCheck(out);
  }

  @Test
  void decode_headerClaimingTwoGiB_emitsFatalErrorWithoutWaitingForTheBody() {
    RawFrame huge = getRequest(3);
    huge.payloadLength = Integer.MAX_VALUE;
    huge.descriptorLength = -1; // 0xFFFFFFFF
    FrameError e = assertFatal(FrameLimits.DEFAULT, huge.bytes(), FrameStatus.FRAME_TOO_LARGE);
    assertTrue(e.message().contains("6442450998"), e.message());
  }

  @Test
  void decode_unknownOpcode_emitsRecoverableErrorAndDecodesTheNextFrame() {
    byte[] bad = RawFrame.request(9).id(7).payload(RawFrame.bytes(500, 1)).bytes();
    FrameError e = assertRecoverable(FrameLimits.DEFAULT, bad, FrameStatus.UNKNOWN_OPCODE, 7);
    assertEquals(Opcode.NONE, e.opcode());
    assertFalse(e.response());
  }

  @Test
  void decode_opcodeZeroInARequest_isAnUnknownOpcode() {
    byte[] bad = RawFrame.request(0).id(7).bytes();
    assertRecoverable(FrameLimits.DEFAULT, bad, FrameStatus.UNKNOWN_OPCODE, 7);
  }

  @Test
  void decode_unsupportedVersion_emitsRecoverableErrorAndDecodesTheNextFrame() {
    byte[] bad = with(getRequest(11), f -> f.version = 2).bytes();
    FrameError e = assertRecoverable(FrameLimits.DEFAULT, bad, FrameStatus.UNSUPPORTED_VERSION, 11);
    assertEquals(Opcode.GET, e.opcode());
    byte[] zero = with(getRequest(12), f -> f.version = 0).bytes();
    assertRecoverable(FrameLimits.DEFAULT, zero, FrameStatus.UNSUPPORTED_VERSION, 12);
  }

  @Test
  void decode_descriptorLengthsNotAddingUpToPayload_emitsRecoverableBadFrame() {
    byte[] payload = RawFrame.bytes(12, 1);
    byte[] tooLong =
        RawFrame.request(PUT)
            .id(21)
            .descriptor(RawFrame.key(1), 10, RawFrame.crc32c(payload), 0, 0)
            .payload(payload)
            .bytes();
    FrameError e = assertRecoverable(FrameLimits.DEFAULT, tooLong, FrameStatus.BAD_FRAME, 21);
    assertTrue(e.message().contains("add up to 10"), e.message());
    byte[] tooShort =
        RawFrame.request(PUT)
            .id(22)
            .descriptor(RawFrame.key(1), 8, 0, 0, 0)
            .descriptor(RawFrame.key(2), 8, 0, 0, 0)
            .payload(payload)
            .bytes();
    assertRecoverable(FrameLimits.DEFAULT, tooShort, FrameStatus.BAD_FRAME, 22);
  }

  @Test
  void decode_reservedFlagBitSet_emitsRecoverableBadFrame() {
    for (int bit = 1; bit < 16; bit++) {
      int flags = 1 << bit;
      byte[] bad = with(getRequest(30 + bit), f -> f.flags = flags).bytes();
      FrameError e = assertRecoverable(FrameLimits.DEFAULT, bad, FrameStatus.BAD_FRAME, 30 + bit);
      assertTrue(e.message().contains("reserved flag"), e.message());
    }
  }

  @Test
  void decode_moreBlocksThanLimit_emitsRecoverableFrameTooLarge() {
    FrameLimits limits = FrameLimits.DEFAULT.withMaxBlocksPerFrame(4);
    RawFrame five = RawFrame.request(DELETE).id(40);
    RawFrame four = RawFrame.request(DELETE).id(100);
    for (int i = 0; i < 5; i++) {
      five.descriptor(RawFrame.key(i), 0, 0, 0, 0);
      if (i < 4) {
        four.descriptor(RawFrame.key(i), 0, 0, 0, 0);
      }
    }
    assertRecoverable(limits, five.bytes(), FrameStatus.FRAME_TOO_LARGE, 40);
    List<Object> out = decodeAllWays(limits, four.bytes());
    assertEquals(4, assertInstanceOf(Frame.class, out.get(0)).blockCount(), "at the limit: fine");
    releaseAndCheck(out);
  }

  static Stream<Arguments> malformedTrustedFrames() {
    byte[] msg1025 = new byte[1025];
    Arrays.fill(msg1025, (byte) 'x');
    return Stream.of(
        bad("reserved header bytes 18..19", with(getRequest(50), f -> f.reserved18 = 1)),
        bad("reserved header bytes 48..51", with(getRequest(50), f -> f.reserved48 = 1 << 24)),
        bad("request with a status", with(getRequest(50), f -> f.status = 1)),
        bad(
            "response with an unknown status",
            with(RawFrame.response(GET).id(50), f -> f.status = 9)),
        bad("request id 0", getRequest(0)),
        bad("successful response with id 0", RawFrame.response(PING).id(0)),
        bad("descriptor length not count x 48", with(getRequest(50), f -> f.blockCount = 2)),
        bad("payload on a GET request", getRequest(50).payload(new byte[3])),
        bad(
            "payload on a DELETE request",
            RawFrame.request(DELETE)
                .id(50)
                .descriptor(RawFrame.key(1), 0, 0, 0, 0)
                .payload(new byte[1])),
        bad("payload on a PUT response", RawFrame.response(PUT).id(50).payload(new byte[1])),
        bad(
            "descriptor flags",
            RawFrame.request(GET).id(50).descriptor(RawFrame.key(1), 0, 0, 0, 0, 1, 0)),
        bad(
            "descriptor reserved",
            RawFrame.request(GET).id(50).descriptor(RawFrame.key(1), 0, 0, 0, 0, 0, 5)),
        bad(
            "block status in a request",
            RawFrame.request(DELETE).id(50).descriptor(RawFrame.key(1), 0, 0, 1, 0)),
        bad(
            "tier in a request",
            RawFrame.request(DELETE).id(50).descriptor(RawFrame.key(1), 0, 0, 0, 2)),
        bad(
            "crc in a GET request",
            RawFrame.request(GET).id(50).descriptor(RawFrame.key(1), 0, 9, 0, 0)),
        bad(
            "length in a CONTAINS_PREFIX request",
            RawFrame.request(CONTAINS).id(50).descriptor(RawFrame.key(1), 1, 0, 0, 0)),
        bad(
            "slot capacity over 2^31 - 1",
            RawFrame.request(GET).id(50).descriptor(RawFrame.key(1), 0x80000000, 0, 0, 0)),
        bad(
            "unknown block status",
            RawFrame.response(DELETE).id(50).descriptor(RawFrame.key(1), 0, 0, 7, 0)),
        bad(
            "unknown tier",
            RawFrame.response(DELETE).id(50).descriptor(RawFrame.key(1), 0, 0, 0, 4)),
        bad(
            "GET miss with a length",
            RawFrame.response(GET)
                .id(50)
                .descriptor(RawFrame.key(1), 1, 0, 1, 0)
                .payload(new byte[1])),
        bad(
            "crc in a CONTAINS_PREFIX response",
            RawFrame.response(CONTAINS).id(50).descriptor(RawFrame.key(1), 10, 3, 0, 2)),
        bad(
            "length in a PUT response",
            RawFrame.response(PUT).id(50).descriptor(RawFrame.key(1), 10, 0, 0, 2)),
        bad(
            "error frame with blocks",
            with(
                RawFrame.response(GET).id(50).descriptor(RawFrame.key(1), 0, 0, 0, 0),
                f -> f.status = 6)),
        bad(
            "error frame with a namespace",
            with(
                RawFrame.response(GET).id(50).namespace(RawFrame.bytes(16, 1)), f -> f.status = 6)),
        bad(
            "error message over 1024 bytes",
            with(RawFrame.response(GET).id(50).payload(msg1025), f -> f.status = 6)),
        bad(
            "HELLO with a namespace",
            RawFrame.request(HELLO)
                .id(50)
                .namespace(RawFrame.bytes(16, 1))
                .helloBody(1, 1, 1 << 20, 16)),
        bad(
            "HELLO with a payload",
            RawFrame.request(HELLO).id(50).helloBody(1, 1, 1 << 20, 16).payload(new byte[1])),
        bad("HELLO without a body", RawFrame.request(HELLO).id(50)),
        bad("HELLO with min > max", RawFrame.request(HELLO).id(50).helloBody(2, 1, 1 << 20, 16)),
        bad("HELLO with version 0", RawFrame.request(HELLO).id(50).helloBody(0, 1, 1 << 20, 16)),
        bad(
            "HELLO with reserved body bytes",
            RawFrame.request(HELLO).id(50).helloBody(1, 1, 3, 1 << 20, 16, 0)),
        bad(
            "HELLO with a frame limit under 4096",
            RawFrame.request(HELLO).id(50).helloBody(1, 1, 4095, 16)),
        bad(
            "HELLO with a block limit of 0",
            RawFrame.request(HELLO).id(50).helloBody(1, 1, 1 << 20, 0)),
        bad(
            "HELLO response choosing a version outside its range",
            RawFrame.response(HELLO).id(50).helloBody(2, 3, 1 << 20, 16)),
        bad("PING with blocks", with(RawFrame.request(PING).id(50), f -> f.blockCount = 1)));
  }

  private static Arguments bad(String name, RawFrame frame) {
    return Arguments.of(name, frame.bytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedTrustedFrames")
  void decode_malformedFrameWithTrustedHeader_isRejectedAsBadFrameAndSkipped(
      String name, byte[] bad) {
    FrameError e = assertRecoverable(FrameLimits.DEFAULT, bad, FrameStatus.BAD_FRAME, bad[8]);
    assertFalse(e.message().isEmpty(), name);
  }

  @Test
  void decode_truncatedFrame_emitsNothingAndThrowsNothing() {
    for (byte[] whole :
        List.of(FrameGoldenTest.PUT_REQUEST_TWO_BLOCKS, NEXT, getRequest(1).bytes())) {
      for (int length = 1; length < whole.length; length++) {
        byte[] prefix = Arrays.copyOf(whole, length);
        ByteBuf in = Unpooled.copiedBuffer(prefix);
        List<Object> out =
            Channels.decode(FrameLimits.DEFAULT, ByteBufAllocator.DEFAULT, List.of(in));
        assertEquals(List.of(), out, "prefix of " + length + " bytes");
        assertEquals(0, in.refCnt(), "released when the stream ends");
      }
    }
  }

  @Test
  void decode_recoverableErrorBeforeTheBodyArrives_isEmittedAtOnceAndTheBodySkippedAsItComes() {
    byte[] bad = RawFrame.request(9).id(60).payload(RawFrame.bytes(10_000, 3)).bytes();
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, ByteBufAllocator.DEFAULT);
    List<ByteBuf> inputs = new ArrayList<>();
    ByteBuf header = Unpooled.copiedBuffer(bad, 0, 56);
    inputs.add(header);
    ch.writeInbound(header);
    FrameError e = assertInstanceOf(FrameError.class, ch.readInbound());
    assertEquals(FrameStatus.UNKNOWN_OPCODE, e.status());
    assertEquals(0, header.refCnt(), "the header was consumed, not kept");
    for (int pos = 56; pos < bad.length; pos += 1000) {
      ByteBuf chunk = Unpooled.copiedBuffer(bad, pos, Math.min(1000, bad.length - pos));
      inputs.add(chunk);
      ch.writeInbound(chunk);
      assertEquals(0, chunk.refCnt(), "body bytes of a rejected frame are not buffered");
    }
    assertNull(ch.readInbound());
    ch.writeInbound(Unpooled.copiedBuffer(NEXT));
    Frame next = assertInstanceOf(Frame.class, ch.readInbound());
    assertEquals(100, next.requestId());
    assertTrue(next.release());
    assertFalse(ch.finish());
  }

  @Test
  void errorResponse_builtFromARecoverableError_reachesTheClientWithItsRequestId() {
    byte[] bad = RawFrame.request(9).id(61).bytes();
    List<Object> serverSide = Channels.decode(bad);
    FrameError e = assertInstanceOf(FrameError.class, serverSide.get(0));

    byte[] answer = Channels.encode(Frame.error(e, ByteBufAllocator.DEFAULT));
    List<Object> clientSide = Channels.decode(answer);
    Frame reply = assertInstanceOf(Frame.class, clientSide.get(0));
    assertTrue(reply.isError());
    assertTrue(reply.isResponse());
    assertEquals(61, reply.requestId());
    assertEquals(Opcode.NONE, reply.opcode());
    assertEquals(FrameStatus.UNKNOWN_OPCODE, reply.status());
    assertEquals(e.message(), reply.errorMessage());
    Channels.releaseAll(clientSide);
  }

  @Test
  void errorResponse_longMessage_isTruncatedAtACharacterBoundaryAndStillDecodes() {
    String message = "\u4e2d".repeat(400); // 3 bytes each: 1200 bytes
    Frame error =
        Frame.error(Opcode.GET, 62, FrameStatus.INTERNAL, message, ByteBufAllocator.DEFAULT);
    assertEquals(1023, error.payloadLength(), "341 whole characters");
    List<Object> out = Channels.decode(Channels.encode(error));
    Frame reply = assertInstanceOf(Frame.class, out.get(0));
    assertEquals("\u4e2d".repeat(341), reply.errorMessage());
    Channels.releaseAll(out);
  }
}
