package io.kvhoard.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Runs the codec in Netty {@link EmbeddedChannel}s, the way a server pipeline does. */
final class Channels {
  private Channels() {}

  /** A channel with a fresh decoder and {@code alloc} as its allocator. */
  static EmbeddedChannel decoderChannel(FrameLimits limits, ByteBufAllocator alloc) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(alloc);
    ch.pipeline().addLast(FrameCodec.newDecoder(limits));
    return ch;
  }

  /** Writes {@code chunks} one read at a time, then ends the stream; returns everything emitted. */
  static List<Object> decode(FrameLimits limits, ByteBufAllocator alloc, List<ByteBuf> chunks) {
    EmbeddedChannel ch = decoderChannel(limits, alloc);
    List<Object> out = new ArrayList<>();
    for (ByteBuf chunk : chunks) {
      ch.writeInbound(chunk);
      drain(ch, out);
    }
    ch.finish();
    drain(ch, out);
    return out;
  }

  /** Decodes {@code bytes} delivered as one heap buffer, with the default limits. */
  static List<Object> decode(byte[] bytes) {
    return decode(
        FrameLimits.DEFAULT, ByteBufAllocator.DEFAULT, List.of(Unpooled.copiedBuffer(bytes)));
  }

  /** Decodes {@code bytes} cut into chunks of the given sizes (the rest in a last chunk). */
  static List<Object> decodeChunked(byte[] bytes, int... cuts) {
    List<ByteBuf> chunks = new ArrayList<>();
    int pos = 0;
    for (int cut : cuts) {
      int n = Math.min(cut, bytes.length - pos);
      chunks.add(Unpooled.copiedBuffer(bytes, pos, n));
      pos += n;
    }
    if (pos < bytes.length) {
      chunks.add(Unpooled.copiedBuffer(bytes, pos, bytes.length - pos));
    }
    return decode(FrameLimits.DEFAULT, ByteBufAllocator.DEFAULT, chunks);
  }

  static void drain(EmbeddedChannel ch, List<Object> out) {
    for (Object msg; (msg = ch.readInbound()) != null; ) {
      out.add(msg);
    }
  }

  /** Writes {@code frames} through an encoder and returns the bytes it produced. */
  static byte[] encode(Frame... frames) {
    return encode(ByteBufAllocator.DEFAULT, frames);
  }

  /** Writes {@code frames} through an encoder whose channel allocates from {@code alloc}. */
  static byte[] encode(ByteBufAllocator alloc, Frame... frames) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(alloc);
    ch.pipeline().addLast(FrameCodec.newEncoder());
    for (Frame frame : frames) {
      ch.writeOutbound(frame);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object msg; (msg = ch.readOutbound()) != null; ) {
      ByteBuf buf = (ByteBuf) msg;
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      buf.release();
      out.writeBytes(bytes);
    }
    ch.finish();
    return out.toByteArray();
  }

  static void releaseAll(List<Object> msgs) {
    for (Object msg : msgs) {
      ReferenceCountUtil.release(msg);
    }
  }
}
