package io.kvhoard.protocol.frame;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes a {@link Frame} as three buffers: a new 56-byte header, then retained slices of the
 * descriptor and payload sections, so the transport sends them with one gathering write and the
 * payload is never copied. Releases the frame once written, like every Netty encoder.
 *
 * <p>Stateless, thread-safe and sharable.
 */
@ChannelHandler.Sharable
final class FrameEncoder extends MessageToMessageEncoder<Frame> {
  FrameEncoder() {
    super(Frame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
    FrameCodec.encode(frame, ctx.alloc(), out);
  }
}
