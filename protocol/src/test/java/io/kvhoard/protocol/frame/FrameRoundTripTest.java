package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every opcode, request and response, through encoder, bytes and decoder. */
class FrameRoundTripTest {

  static List<FrameSpec> samples() {
    return FrameSpec.samples();
  }

  @ParameterizedTest
  @MethodSource("samples")
  void roundTrip_everyOpcodeRequestAndResponse_decodesToTheSpecifiedFields(FrameSpec spec) {
    Frame built = spec.build(ByteBufAllocator.DEFAULT);
    spec.assertMatches(built);
    byte[] wire = Channels.encode(built);
    assertEquals(0, built.refCnt(), "the encoder releases what it wrote");

    List<Object> out = Channels.decode(wire);
    assertEquals(1, out.size(), spec.name());
    Frame decoded = assertInstanceOf(Frame.class, out.get(0), spec.name());
    spec.assertMatches(decoded);
    assertTrue(decoded.release());
  }

  @ParameterizedTest
  @MethodSource("samples")
  void encode_everySample_equalsTheIndependentlyWrittenBytes(FrameSpec spec) {
    byte[] expected = spec.rawBytes();
    assertArrayEquals(expected, Channels.encode(spec.build(ByteBufAllocator.DEFAULT)), spec.name());

    Frame frame = spec.build(ByteBufAllocator.DEFAULT);
    ByteBuf whole = FrameCodec.encode(frame, ByteBufAllocator.DEFAULT);
    byte[] actual = new byte[whole.readableBytes()];
    whole.readBytes(actual);
    assertTrue(whole.release());
    assertTrue(frame.release());
    assertArrayEquals(expected, actual, spec.name() + " (FrameCodec.encode)");
  }

  @ParameterizedTest
  @MethodSource("samples")
  void decode_independentlyWrittenBytes_yieldTheSpecifiedFields(FrameSpec spec) {
    List<Object> out = Channels.decode(spec.rawBytes());
    assertEquals(1, out.size(), spec.name());
    Frame decoded = assertInstanceOf(Frame.class, out.get(0), spec.name());
    spec.assertMatches(decoded);
    assertTrue(decoded.release());
  }

  @Test
  void decode_allSamplesPipelinedBackToBack_decodesEachInOrder() {
    List<FrameSpec> specs = FrameSpec.samples();
    byte[] wire = new byte[0];
    for (FrameSpec spec : specs) {
      wire = RawFrame.concat(wire, Channels.encode(spec.build(ByteBufAllocator.DEFAULT)));
    }
    for (List<Object> out : List.of(Channels.decode(wire), Channels.decodeChunked(wire, 100, 7))) {
      assertEquals(specs.size(), out.size());
      for (int i = 0; i < specs.size(); i++) {
        specs.get(i).assertMatches(assertInstanceOf(Frame.class, out.get(i)));
      }
      Channels.releaseAll(out);
    }
  }

  @Test
  void decode_smallFramesSplitAtEveryByteBoundary_decodesTheSameFrame() {
    int checked = 0;
    for (FrameSpec spec : FrameSpec.samples()) {
      byte[] wire = spec.rawBytes();
      if (wire.length > 512) {
        continue;
      }
      for (int cut = 1; cut < wire.length; cut++) {
        List<Object> out = Channels.decodeChunked(wire, cut);
        assertEquals(1, out.size(), spec.name() + " cut at " + cut);
        spec.assertMatches(assertInstanceOf(Frame.class, out.get(0)));
        Channels.releaseAll(out);
      }
      checked++;
    }
    assertTrue(checked >= 15, "most samples are small: " + checked);
  }

  @Test
  void decode_framesDeliveredOneByteAtATime_decodesEveryFrame() {
    List<FrameSpec> specs = FrameSpec.samples();
    List<ByteBuf> chunks = new ArrayList<>();
    for (FrameSpec spec : specs) {
      for (byte b : spec.rawBytes()) {
        chunks.add(Unpooled.buffer(1).writeByte(b));
      }
    }
    List<Object> out = Channels.decode(FrameLimits.DEFAULT, ByteBufAllocator.DEFAULT, chunks);
    assertEquals(specs.size(), out.size());
    for (int i = 0; i < specs.size(); i++) {
      specs.get(i).assertMatches(assertInstanceOf(Frame.class, out.get(i)));
    }
    Channels.releaseAll(out);
    for (ByteBuf chunk : chunks) {
      assertEquals(0, chunk.refCnt());
    }
  }

  @Test
  void encode_putPayload_isPassedToTheTransportWithoutACopy() {
    byte[] bytes = RawFrame.bytes(4096, 9);
    ByteBuf payload = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    payload.retain(); // the test keeps a reference to write into it later
    Frame frame;
    try (FrameBuilder b =
        Frame.newRequest(
            Opcode.PUT, 42, NamespaceId.of(FrameSpec.NAMESPACE), Unpooled.buffer(0).alloc())) {
      frame = b.addPut(RawFrame.key(1), payload, RawFrame.crc32c(bytes)).build();
    }

    EmbeddedChannel ch = new EmbeddedChannel(FrameCodec.newEncoder());
    ch.writeOutbound(frame);
    ByteBuf header = ch.readOutbound();
    ByteBuf descriptors = ch.readOutbound();
    ByteBuf sentPayload = ch.readOutbound();
    assertEquals(FrameCodec.HEADER_BYTES, header.readableBytes());
    assertEquals(FrameCodec.DESCRIPTOR_BYTES, descriptors.readableBytes());
    assertEquals(bytes.length, sentPayload.readableBytes());

    payload.setByte(1000, 0x7F ^ bytes[1000]); // visible in what is sent only if not copied
    assertEquals(
        (byte) (0x7F ^ bytes[1000]), sentPayload.getByte(sentPayload.readerIndex() + 1000));

    header.release();
    descriptors.release();
    sentPayload.release();
    ch.finish();
    assertTrue(payload.release());
  }
}
