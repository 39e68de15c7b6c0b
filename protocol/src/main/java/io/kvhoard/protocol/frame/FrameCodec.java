package io.kvhoard.protocol.frame;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Entry points of the data-plane frame codec, and the protocol's constants. The wire format is
 * specified in {@code protocol/PROTOCOL.md}.
 *
 * <p>In a Netty pipeline: {@link #newDecoder(FrameLimits)} (one per channel) and {@link
 * #newEncoder()}. Outside one (benchmarks, another transport): {@link #encode(Frame,
 * ByteBufAllocator, List)} and {@link #newReader(FrameLimits)}.
 *
 * <p>Design. The framing is a fixed header with explicit section lengths, read before anything
 * else, like Netty's {@code LengthFieldBasedFrameDecoder}: the receiver knows the frame's full
 * length from the first 56 bytes and checks it against its limit before buffering the body. The
 * header shape (magic, opcode, status, an opaque request id echoed for pipelining, body lengths)
 * follows the memcached binary protocol. The header carries its own CRC32C, as iSCSI's header
 * digest (RFC 3720) and Ceph's msgr2 preamble do: once it matches, the lengths can be trusted, so a
 * frame whose content is wrong can be skipped exactly and the connection kept, while a corrupt
 * header ends the connection. Block operations are batches of fixed-size descriptors naming (key,
 * slot) pairs, the shape of Mooncake's transfer engine and NIXL's descriptor lists, so an RDMA
 * transport can carry the same operations as one-sided reads and writes. Payloads never pass
 * through a copy: the encoder hands the payload buffers to the transport as they are (a gathering
 * write), and the decoder, accumulating reads in a {@code CompositeByteBuf}, hands out retained
 * slices of them.
 *
 * <p>Thread-safety: the static methods are thread-safe; see each returned object for its own.
 */
public final class FrameCodec {
  /** The magic: bytes {@code 'K','V','H','F'}, read as a little-endian u32. */
  public static final int MAGIC = 0x4648564B;

  /** Length of the fixed header. */
  public static final int HEADER_BYTES = 56;

  /** Length of one block descriptor. */
  public static final int DESCRIPTOR_BYTES = 48;

  /** Length of a block key (a SHA-256 prefix key). */
  public static final int KEY_BYTES = 32;

  /** Length of a namespace id. */
  public static final int NAMESPACE_ID_BYTES = 16;

  /** Length of a HELLO body (the descriptor section of HELLO frames). */
  public static final int HELLO_BODY_BYTES = 16;

  /** Lowest protocol version this codec speaks. */
  public static final int MIN_VERSION = 1;

  /** Highest protocol version this codec speaks, and the one its factories write. */
  public static final int MAX_VERSION = 1;

  /** Longest error message, in UTF-8 bytes; senders truncate at a character boundary. */
  public static final int MAX_ERROR_MESSAGE_BYTES = 1024;

  /** Header flag bit 0: the frame is a response. All other bits are reserved and must be 0. */
  static final int FLAG_RESPONSE = 1;

  /** Bytes of the header covered by its CRC32C (all but the CRC itself). */
  static final int HEADER_CRC_COVERED_BYTES = 52;

  private FrameCodec() {}

  /**
   * A new decoder for one channel: emits {@link Frame}s and {@link FrameError}s, nothing else. Not
   * sharable: add a new one to each channel's pipeline. After a fatal {@link FrameError} it
   * discards all input; the handler that receives the error answers it and closes the channel. (If
   * the decoder is removed from a live pipeline, Netty passes the bytes it has not decoded on as a
   * {@code ByteBuf}.)
   */
  public static ChannelInboundHandler newDecoder(FrameLimits limits) {
    return new FrameDecoder(limits);
  }

  /** An encoder for {@link Frame}s. Stateless and sharable between channels. */
  public static ChannelOutboundHandler newEncoder() {
    return new FrameEncoder();
  }

  /**
   * A decoder usable outside a Netty pipeline, with the same checks and the same outcomes as {@link
   * #newDecoder(FrameLimits)}. Not thread-safe: one per stream.
   */
  public static FrameReader newReader(FrameLimits limits) {
    return new FrameReader(limits);
  }

  /**
   * Encodes {@code frame} without copying its sections: adds to {@code out} a new 56-byte header
   * buffer, then retained slices of the descriptor section and of the payload section (each only
   * when non-empty). The caller owns what it added to {@code out}; {@code frame} is not released.
   */
  public static void encode(Frame frame, ByteBufAllocator alloc, List<? super ByteBuf> out) {
    // Everything is retained or allocated before anything is added to out: a failure (say, a frame
    // already released) must not leave a header without its sections on the way to the wire.
    ByteBuf descriptors = null;
    ByteBuf payload = null;
    ByteBuf header = null;
    try {
      if (frame.descriptorLength() > 0) {
        descriptors = frame.descriptorBuffer().retainedSlice(0, frame.descriptorLength());
      }
      if (frame.payloadLength() > 0) {
        payload = frame.payloadBuffer().retainedSlice(0, frame.payloadLength());
      }
      header = alloc.ioBuffer(HEADER_BYTES, HEADER_BYTES);
      writeHeader(frame, header);
    } catch (RuntimeException e) {
      releaseAll(header, descriptors, payload);
      throw e;
    }
    out.add(header);
    if (descriptors != null) {
      out.add(descriptors);
    }
    if (payload != null) {
      out.add(payload);
    }
  }

  /**
   * Encodes {@code frame} as one buffer, without copying its sections: a composite of a new header
   * and retained slices of the sections. The caller owns the result; {@code frame} is not released.
   */
  public static ByteBuf encode(Frame frame, ByteBufAllocator alloc) {
    List<ByteBuf> parts = new ArrayList<>(3);
    encode(frame, alloc, parts);
    return alloc.compositeBuffer(parts.size()).addComponents(true, parts);
  }

  /** Writes the 56-byte header of {@code frame}, CRC included, at {@code dst}'s writer index. */
  public static void writeHeader(Frame frame, ByteBuf dst) {
    Objects.requireNonNull(frame, "frame");
    dst.ensureWritable(HEADER_BYTES);
    int start = dst.writerIndex();
    NamespaceId ns = frame.namespaceId();
    dst.writeIntLE(MAGIC)
        .writeByte(frame.version())
        .writeByte(frame.opcode().code())
        .writeShortLE(frame.isResponse() ? FLAG_RESPONSE : 0)
        .writeLongLE(frame.requestId())
        .writeShortLE(frame.status().code())
        .writeShortLE(0)
        .writeIntLE(frame.blockCount())
        .writeLong(ns.hi()) // the 16 bytes in order
        .writeLong(ns.lo())
        .writeIntLE(frame.descriptorLength())
        .writeIntLE(frame.payloadLength())
        .writeIntLE(0);
    dst.writeIntLE(crc32c(dst, start, HEADER_CRC_COVERED_BYTES));
  }

  private static void releaseAll(ByteBuf... bufs) {
    for (ByteBuf buf : bufs) {
      if (buf != null) {
        buf.release();
      }
    }
  }

  /**
   * CRC32C (Castagnoli, as {@link CRC32C}) of {@code length} bytes of {@code buf} from {@code
   * index}, without changing its indices or copying from direct or composite buffers.
   */
  public static int crc32c(ByteBuf buf, int index, int length) {
    CRC32C crc = new CRC32C();
    if (buf.hasArray()) {
      crc.update(buf.array(), buf.arrayOffset() + index, length);
    } else if (buf.nioBufferCount() > 0) {
      for (ByteBuffer part : buf.nioBuffers(index, length)) {
        crc.update(part);
      }
    } else {
      byte[] chunk = new byte[Math.min(length, 8192)];
      for (int done = 0; done < length; ) {
        int n = Math.min(chunk.length, length - done);
        buf.getBytes(index + done, chunk, 0, n);
        crc.update(chunk, 0, n);
        done += n;
      }
    }
    return (int) crc.getValue();
  }
}
