package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The factories and the builder: what they refuse, and who owns which buffer when they do. */
class FrameBuilderTest {
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
  private static final NamespaceId NS = NamespaceId.of(RawFrame.bytes(16, 3));
  private static final byte[] KEY = RawFrame.key(1);

  private static ByteBuf payload(int length) {
    return Unpooled.directBuffer(length).writeBytes(RawFrame.bytes(length, 1));
  }

  @Test
  void addGet_onAPutRequest_throwsNamingTheMismatch() {
    try (FrameBuilder b = Frame.newRequest(Opcode.PUT, 1, NS, ALLOC)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.addGet(KEY, 0));
      assertEquals("addGet does not apply to a PUT request", e.getMessage());
    }
  }

  @Test
  void addPut_withAWrongKeyLength_releasesThePayloadAndThrows() {
    ByteBuf p = payload(10);
    try (FrameBuilder b = Frame.newRequest(Opcode.PUT, 1, NS, ALLOC)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> b.addPut(new byte[31], p, 0));
      assertEquals("a block key is 32 bytes, got 31", e.getMessage());
    }
    assertEquals(0, p.refCnt(), "ownership passed to the builder, which released it");
  }

  @Test
  void addPut_onAGetRequest_releasesThePayloadAndThrows() {
    ByteBuf p = payload(10);
    try (FrameBuilder b = Frame.newRequest(Opcode.GET, 1, NS, ALLOC)) {
      assertThrows(IllegalStateException.class, () -> b.addPut(KEY, p, 0));
    }
    assertEquals(0, p.refCnt());
  }

  @Test
  void addHit_withoutATier_releasesThePayloadAndThrows() {
    ByteBuf p = payload(10);
    try (FrameBuilder b = Frame.newResponse(Opcode.GET, 1, NS, ALLOC)) {
      assertThrows(NullPointerException.class, () -> b.addHit(KEY, p, 0, null));
    }
    assertEquals(0, p.refCnt());
  }

  @Test
  void addStatus_okForAPutResponse_isAccepted_butATierInARequestIsNot() {
    try (FrameBuilder b = Frame.newResponse(Opcode.PUT, 1, NS, ALLOC)) {
      Frame f = b.addStatus(KEY, BlockStatus.OK, BlockTier.DISK).build();
      assertEquals(BlockTier.DISK, f.blockTier(0));
      assertTrue(f.release());
    }
    try (FrameBuilder b = Frame.newRequest(Opcode.DELETE, 1, NS, ALLOC)) {
      assertThrows(IllegalStateException.class, () -> b.addStatus(KEY, BlockStatus.OK, null));
    }
  }

  @Test
  void addGet_withANegativeCapacity_throws() {
    try (FrameBuilder b = Frame.newRequest(Opcode.GET, 1, NS, ALLOC)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> b.addGet(KEY, -1));
      assertEquals("slot capacity must be >= 0, got -1", e.getMessage());
    }
  }

  @Test
  void newRequest_forANonBlockOpcode_pointsToTheFactories() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Frame.newRequest(Opcode.PING, 1, NS, ALLOC));
    assertTrue(e.getMessage().contains("Frame.ping"), e.getMessage());
  }

  @Test
  void newRequest_withRequestIdZero_throws() {
    assertThrows(IllegalArgumentException.class, () -> Frame.newRequest(Opcode.GET, 0, NS, ALLOC));
  }

  @Test
  void build_twice_throwsAndTheFrameOutlivesClose() {
    Frame f;
    try (FrameBuilder b = Frame.newRequest(Opcode.DELETE, 1, NS, ALLOC)) {
      f = b.addKey(KEY).build();
      assertThrows(IllegalStateException.class, b::build);
      assertThrows(IllegalStateException.class, () -> b.addKey(KEY));
    }
    assertEquals(1, f.refCnt(), "close after build leaves the frame alone");
    assertArrayEquals(KEY, f.key(0));
    assertTrue(f.release());
  }

  @Test
  void close_withoutBuild_releasesEverythingCollected() {
    ByteBuf p1 = payload(100).retain();
    ByteBuf p2 = payload(200).retain();
    FrameBuilder b = Frame.newRequest(Opcode.PUT, 1, NS, ALLOC);
    b.addPut(KEY, p1, 0).addPut(RawFrame.key(2), p2, 0);
    assertEquals(2, b.blockCount());
    b.close();
    b.close();
    assertTrue(p1.release(), "only the test's reference was left");
    assertTrue(p2.release(), "only the test's reference was left");
  }

  @Test
  void build_putRequest_keepsThePayloadBuffersAsTheyAre() {
    ByteBuf p = payload(64).retain();
    Frame f;
    try (FrameBuilder b = Frame.newRequest(Opcode.PUT, 1, NS, ALLOC)) {
      f = b.addPut(KEY, p, FrameCodec.crc32c(p, 0, 64)).build();
    }
    p.setByte(5, 99);
    assertEquals(99, f.blockPayload(0).getByte(5), "a view of the caller's buffer, not a copy");
    assertFalse(f.blockPayloadMatchesCrc(0), "and the CRC check notices the change");
    assertTrue(f.release());
    assertTrue(p.release());
  }

  @Test
  void newResponse_toARequest_echoesOpcodeIdNamespaceAndVersion() {
    Frame request;
    try (FrameBuilder b = Frame.newRequest(Opcode.CONTAINS_PREFIX, 77, NS, ALLOC)) {
      request = b.addKey(KEY).build();
    }
    Frame response;
    try (FrameBuilder b = Frame.newResponse(request, ALLOC)) {
      response = b.addContained(KEY, 2 << 20, BlockTier.GPU).build();
    }
    assertEquals(Opcode.CONTAINS_PREFIX, response.opcode());
    assertTrue(response.isResponse());
    assertEquals(77, response.requestId());
    assertEquals(NS, response.namespaceId());
    assertEquals(request.version(), response.version());
    assertEquals(2 << 20, response.blockLength(0));
    assertThrows(IllegalArgumentException.class, () -> Frame.newResponse(response, ALLOC));
    assertTrue(request.release());
    assertTrue(response.release());
  }

  @Test
  void ping_withRequestIdZero_releasesThePayloadAndThrows() {
    ByteBuf p = payload(8);
    assertThrows(IllegalArgumentException.class, () -> Frame.ping(0, p));
    assertEquals(0, p.refCnt());
  }

  @Test
  void ping_payloadWithBytesAlreadyRead_carriesOnlyTheReadableBytes() {
    ByteBuf p = payload(8);
    p.skipBytes(3);
    Frame f = Frame.ping(1, p);
    assertEquals(5, f.payloadLength());
    assertArrayEquals(ByteBufUtil.getBytes(p), ByteBufUtil.getBytes(f.payload()));
    assertTrue(f.release());
    assertEquals(0, p.refCnt());
  }

  @Test
  void error_withStatusOk_throws() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Frame.error(Opcode.GET, 1, FrameStatus.OK, "fine", ALLOC));
  }

  @Test
  void helloResponse_chosenVersionOutsideTheServerRange_throws() {
    Hello server = new Hello(1, 1, FrameLimits.DEFAULT);
    assertThrows(IllegalArgumentException.class, () -> Frame.helloResponse(1, 2, server, ALLOC));
  }

  @Test
  void accessors_onTheWrongKindOfFrame_throwIllegalState() {
    Frame get;
    try (FrameBuilder b = Frame.newRequest(Opcode.GET, 1, NS, ALLOC)) {
      get = b.addGet(KEY, 4096).build();
    }
    assertFalse(get.carriesBlockPayloads());
    assertThrows(IllegalStateException.class, () -> get.blockPayload(0));
    assertThrows(IllegalStateException.class, get::hello);
    assertThrows(IllegalStateException.class, get::errorMessage);
    assertThrows(IndexOutOfBoundsException.class, () -> get.blockLength(1));
    assertThrows(IndexOutOfBoundsException.class, () -> get.key(-1));
    assertTrue(get.release());
  }

  @Test
  void retain_thenRelease_releasesTheSectionsOnlyAtTheLastReference() {
    ByteBuf p = payload(16).retain();
    Frame f = Frame.ping(1, p);
    f.retain();
    assertFalse(f.release());
    assertEquals(2, p.refCnt(), "the frame still holds its payload");
    assertTrue(f.release());
    assertEquals(1, p.refCnt(), "released with the frame's last reference");
    assertTrue(p.release());
  }

  @Test
  void encode_releasedFrame_throwsAndAddsNothingToTheOutput() {
    Frame f = Frame.ping(1, payload(8));
    assertTrue(f.release());
    List<ByteBuf> out = new ArrayList<>();
    assertThrows(IllegalReferenceCountException.class, () -> FrameCodec.encode(f, ALLOC, out));
    assertTrue(out.isEmpty(), "no header without its sections");
  }

  @Test
  void limitsAllows_frameOverEitherLimit_isFalse() {
    Frame f;
    try (FrameBuilder b = Frame.newRequest(Opcode.DELETE, 1, NS, ALLOC)) {
      f = b.addKey(KEY).addKey(KEY).build();
    }
    assertTrue(FrameLimits.DEFAULT.allows(f));
    assertFalse(FrameLimits.DEFAULT.withMaxBlocksPerFrame(1).allows(f));
    assertTrue(f.release());
  }
}
