package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hostile headers cannot make the decoder allocate: every buffer it asks the channel's allocator
 * for stays within maxFrameBytes plus one input chunk, and a rejected frame's body is never
 * buffered.
 */
class FrameAllocationBoundTest {
  private static final int CHUNK = 64 << 10;

  private final CountingAllocator alloc = new CountingAllocator(UnpooledByteBufAllocator.DEFAULT);

  private void assertWithinBound(FrameLimits limits) {
    assertTrue(
        alloc.largestRequest() <= (long) limits.maxFrameBytes() + CHUNK,
        "largest allocation " + alloc.largestRequest());
  }

  private static ByteBuf garbage(int seed) {
    return Unpooled.wrappedBuffer(RawFrame.bytes(CHUNK, seed));
  }

  @Test
  void decode_headerClaimingTwoGiBFollowedByManyChunks_allocatesNothingAndKeepsNothing() {
    RawFrame hostile = RawFrame.request(4).id(1);
    hostile.descriptorLength = 48;
    hostile.blockCount = 1;
    hostile.payloadLength = Integer.MAX_VALUE;
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, alloc);
    ch.writeInbound(Unpooled.wrappedBuffer(hostile.bytes()));
    FrameError e = assertInstanceOf(FrameError.class, ch.readInbound());
    assertEquals(FrameStatus.FRAME_TOO_LARGE, e.status());
    List<ByteBuf> inputs = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      ByteBuf chunk = garbage(i);
      inputs.add(chunk);
      ch.writeInbound(chunk);
      assertEquals(0, chunk.refCnt(), "discarded at once after a fatal error");
    }
    assertNull(ch.readInbound());
    ch.finish();
    assertWithinBound(FrameLimits.DEFAULT);
  }

  @Test
  void decode_largeAllowedFrameThatNeverCompletes_buffersOnlyWhatArrivedAndReleasesIt() {
    FrameLimits limits = FrameLimits.DEFAULT.withMaxFrameBytes(64 << 20);
    RawFrame big = RawFrame.request(2).id(1);
    big.payloadLength = (64 << 20) - 56; // exactly at the limit, so accepted: wait for the body
    EmbeddedChannel ch = Channels.decoderChannel(limits, alloc);
    List<ByteBuf> inputs = new ArrayList<>();
    ByteBuf header = Unpooled.wrappedBuffer(big.bytes());
    inputs.add(header);
    ch.writeInbound(header);
    for (int i = 0; i < 200; i++) {
      ByteBuf chunk = garbage(i);
      inputs.add(chunk);
      ch.writeInbound(chunk);
    }
    assertNull(ch.readInbound(), "incomplete: nothing emitted");
    ch.finish();
    assertNull(ch.readInbound(), "truncated at end of stream: still nothing");
    for (ByteBuf in : inputs) {
      assertEquals(0, in.refCnt());
    }
    assertWithinBound(limits);
  }

  @Test
  void decode_rejectedFrameWith32MiBBody_neverBuffersTheBodyAndDecodesTheNextFrame() {
    RawFrame unknown = RawFrame.request(200).id(3);
    unknown.payloadLength = 32 << 20;
    EmbeddedChannel ch = Channels.decoderChannel(FrameLimits.DEFAULT, alloc);
    ch.writeInbound(Unpooled.wrappedBuffer(unknown.bytes()));
    FrameError e = assertInstanceOf(FrameError.class, ch.readInbound());
    assertEquals(FrameStatus.UNKNOWN_OPCODE, e.status());
    assertTrue(e.recoverable());
    for (int i = 0; i < (32 << 20) / CHUNK; i++) {
      ByteBuf chunk = garbage(i);
      ch.writeInbound(chunk);
      assertEquals(0, chunk.refCnt(), "skipped as it arrives");
    }
    ch.writeInbound(Unpooled.wrappedBuffer(RawFrame.request(2).id(4).bytes()));
    Frame next = assertInstanceOf(Frame.class, ch.readInbound());
    assertEquals(4, next.requestId());
    assertTrue(next.release());
    ch.finish();
    assertWithinBound(FrameLimits.DEFAULT);
  }

  @Test
  void decode_headersClaimingEveryLengthCombination_neverExceedTheBound() {
    int[] lengths = {
      0, 1, 47, 48, 4096, 1 << 20, (256 << 20) - 56, 256 << 20, Integer.MAX_VALUE, -1
    };
    for (int descriptorLength : lengths) {
      for (int payloadLength : lengths) {
        for (int opcode = 0; opcode <= 7; opcode++) {
          RawFrame f = RawFrame.request(opcode).id(1);
          f.descriptorLength = descriptorLength;
          f.payloadLength = payloadLength;
          f.blockCount = descriptorLength / 48;
          ByteBuf in = Unpooled.wrappedBuffer(RawFrame.concat(f.bytes(), new byte[CHUNK]));
          List<Object> out = Channels.decode(FrameLimits.DEFAULT, alloc, List.of(in));
          for (Object o : out) {
            assertTrue(o instanceof FrameError || o instanceof Frame, String.valueOf(o));
          }
          Channels.releaseAll(out);
          assertEquals(0, in.refCnt());
        }
      }
    }
    assertWithinBound(FrameLimits.DEFAULT);
  }
}
