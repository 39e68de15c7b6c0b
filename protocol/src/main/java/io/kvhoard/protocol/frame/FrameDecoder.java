package io.kvhoard.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * The Netty face of {@link FrameReader}: emits {@link Frame}s and {@link FrameError}s.
 *
 * <p>Reads are accumulated in a {@code CompositeByteBuf} ({@link #COMPOSITE_CUMULATOR}) rather than
 * merged into one growing buffer: a multi-MiB payload arriving in many reads is never copied, and
 * the frames handed out are slices of the buffers the transport read into.
 *
 * <p>Not thread-safe and not sharable: one per channel, used from its event loop.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  private final FrameReader reader;

  FrameDecoder(FrameLimits limits) {
    this.reader = new FrameReader(limits);
    setCumulator(COMPOSITE_CUMULATOR);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    DecodeResult result = reader.read(in);
    if (result != null) {
      out.add(result);
    }
  }
}
