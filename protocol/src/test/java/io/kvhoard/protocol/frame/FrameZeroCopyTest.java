package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A decoded frame's sections are the bytes the transport read, not copies: proved by memory
 * addresses where the platform exposes them, and by writes into the input showing through.
 */
class FrameZeroCopyTest {
  private static final int PAYLOAD = 4 << 20;
  private static final int CHUNK = 64 << 10;
  private static final int PAYLOAD_START = FrameCodec.HEADER_BYTES + FrameCodec.DESCRIPTOR_BYTES;

  private final byte[] payload = RawFrame.bytes(PAYLOAD, 5);
  private final byte[] wire =
      RawFrame.request(4)
          .id(77)
          .descriptor(RawFrame.key(1), PAYLOAD, RawFrame.crc32c(payload), 0, 0)
          .payload(payload)
          .bytes();
  private final CountingAllocator alloc = new CountingAllocator(UnpooledByteBufAllocator.DEFAULT);

  @Test
  void decode_4MiBPayloadInOneDirectBuffer_sectionsAddressTheInputMemory() {
    ByteBuf in = Unpooled.directBuffer(wire.length).writeBytes(wire);
    assumeTrue(in.hasMemoryAddress(), "needs a platform that exposes direct memory addresses");
    long base = in.memoryAddress();
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, alloc);
    ch.writeInbound(in);
    Frame f = assertInstanceOf(Frame.class, ch.readInbound());

    assertEquals(base + FrameCodec.HEADER_BYTES, f.descriptors().memoryAddress());
    assertEquals(base + PAYLOAD_START, f.payload().memoryAddress());
    assertEquals(base + PAYLOAD_START, f.blockPayload(0).memoryAddress());
    assertEquals(0, alloc.requests(), "the decoder allocated nothing");
    assertTrue(f.blockPayloadMatchesCrc(0));

    assertTrue(f.release());
    assertFalse(ch.finish());
    assertEquals(0, in.refCnt());
  }

  @Test
  void decode_4MiBPayloadInOneBuffer_payloadShowsWritesIntoTheInput() {
    ByteBuf in = Unpooled.directBuffer(wire.length).writeBytes(wire);
    in.retain(); // the test keeps a reference to write into it
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, alloc);
    ch.writeInbound(in);
    Frame f = assertInstanceOf(Frame.class, ch.readInbound());

    for (int offset : new int[] {0, 1, PAYLOAD / 2, PAYLOAD - 1}) {
      byte changed = (byte) ~payload[offset];
      in.setByte(PAYLOAD_START + offset, changed);
      assertEquals(changed, f.payload().getByte(offset), "payload offset " + offset);
    }
    assertTrue(f.release());
    assertFalse(ch.finish());
    assertTrue(in.release());
  }

  @Test
  void decode_4MiBPayloadIn64KiBChunks_payloadIsMadeOfTheChunksThemselves() {
    List<ByteBuf> chunks = new ArrayList<>();
    for (int pos = 0; pos < wire.length; pos += CHUNK) {
      int n = Math.min(CHUNK, wire.length - pos);
      chunks.add(Unpooled.directBuffer(n).writeBytes(wire, pos, n).retain()); // test keeps a ref
    }
    assertEquals(65, chunks.size());
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, alloc);
    for (ByteBuf chunk : chunks) {
      ch.writeInbound(chunk);
    }
    Frame f = assertInstanceOf(Frame.class, ch.readInbound());
    assertArrayEquals(payload, ByteBufUtil.getBytes(f.payload()));
    assertTrue(
        alloc.largestRequest() <= FrameCodec.HEADER_BYTES,
        "no buffer larger than a header was allocated: " + alloc.largestRequest());

    // One piece per chunk, each a view of that chunk's memory.
    ByteBuffer[] pieces = f.payload().nioBuffers();
    assertEquals(chunks.size(), pieces.length);
    for (int k = 0; k < chunks.size(); k++) {
      ByteBuf chunk = chunks.get(k);
      int startInChunk = k == 0 ? PAYLOAD_START : 0;
      assertEquals(chunk.readableBytes() - startInChunk, pieces[k].remaining(), "piece " + k);
      if (chunk.hasMemoryAddress() && pieces[k].isDirect()) {
        assertEquals(
            chunk.memoryAddress() + startInChunk,
            PlatformDependent.directBufferAddress(pieces[k]) + pieces[k].position(),
            "piece " + k + " addresses chunk " + k);
      }
      // Whatever the platform: a write into the chunk shows through the payload.
      int payloadOffset = k * CHUNK - PAYLOAD_START + startInChunk;
      byte changed = (byte) ~payload[payloadOffset];
      chunk.setByte(startInChunk, changed);
      assertEquals(changed, f.payload().getByte(payloadOffset), "chunk " + k);
    }

    assertTrue(f.release());
    assertFalse(ch.finish());
    for (ByteBuf chunk : chunks) {
      assertTrue(chunk.release(), "only the test's own reference was left");
    }
  }

  @Test
  void frameReader_outsideAPipeline_slicesTheGivenBuffer() {
    ByteBuf in = Unpooled.directBuffer(wire.length).writeBytes(wire);
    FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
    Frame f = assertInstanceOf(Frame.class, reader.read(in));
    assertFalse(in.isReadable(), "the frame's bytes were consumed");
    if (in.hasMemoryAddress()) {
      assertEquals(in.memoryAddress() + PAYLOAD_START, f.payload().memoryAddress());
    }
    assertNull(reader.read(in), "nothing more");
    assertTrue(f.release());
    assertTrue(in.release());
  }
}
