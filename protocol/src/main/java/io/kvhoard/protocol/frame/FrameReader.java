package io.kvhoard.protocol.frame;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Decodes a byte stream into {@link Frame}s and {@link FrameError}s, with no Netty pipeline needed.
 * {@link FrameCodec#newDecoder(FrameLimits)} wraps one of these.
 *
 * <p>Design: every check that the 56-byte header allows is made before the body is waited for, so
 * nothing is buffered for a frame that is too long, malformed or untrusted; the body is then
 * checked before the frame is handed out. Outcomes, in the order the checks run:
 *
 * <ol>
 *   <li>Fatal (the stream cannot be trusted; one {@link FrameError}, then every further byte is
 *       discarded): bad magic, bad header CRC32C, a frame longer than {@link
 *       FrameLimits#maxFrameBytes()}.
 *   <li>Recoverable, from the header (the error is returned at once, then exactly the frame's bytes
 *       are skipped as they arrive, never buffered): unsupported version, reserved flag bits or
 *       fields, unknown opcode or status, a request with a status, request id 0, a section shape
 *       that does not fit the opcode, more blocks than {@link FrameLimits#maxBlocksPerFrame()}.
 *   <li>Recoverable, from the body (the whole frame is present; it is skipped): a descriptor that
 *       breaks the rules of its opcode, descriptor lengths that do not add up to the payload
 *       section, a malformed HELLO body.
 * </ol>
 *
 * <p>The decoder never throws for any input and never allocates from the input's size: a frame's
 * sections are retained slices of {@code in}. The one per-frame allocation is the payload offset
 * table of PUT requests and GET responses (4 bytes per block).
 *
 * <p>Not thread-safe: one reader per stream.
 */
public final class FrameReader {
  private final FrameLimits limits;
  private final byte[] header = new byte[FrameCodec.HEADER_BYTES];
  private final ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
  private final CRC32C crc = new CRC32C();
  private int skipRemaining; // bytes of a rejected frame still to discard
  private boolean failed; // after a fatal error: discard everything

  FrameReader(FrameLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** The limits this reader enforces. */
  public FrameLimits limits() {
    return limits;
  }

  /** Whether a fatal error was returned: all further input is discarded. */
  public boolean isFailed() {
    return failed;
  }

  /**
   * Reads the next result from {@code in}, which continues the bytes of the previous calls (as a
   * Netty cumulation does: bytes left unread must be passed again, followed by new ones).
   *
   * <p>Returns {@code null} when more bytes are needed; bytes of a frame that is not complete yet
   * are left unread, except those of a rejected frame, which are consumed as they come. Otherwise
   * returns a {@link Frame}, whose bytes are consumed and whose sections are retained slices of
   * {@code in} (the caller releases the frame), or a {@link FrameError}. Never throws.
   */
  public DecodeResult read(ByteBuf in) {
    try {
      return read0(in);
    } catch (RuntimeException e) {
      // Unreachable by design (every read is bounds-checked first); the property tests assert that
      // no INTERNAL error ever comes out. If it happens anyway, fail closed rather than throw into
      // the pipeline: no buffer was retained before this point.
      failed = true;
      try {
        in.skipBytes(in.readableBytes());
      } catch (RuntimeException ignored) {
        // the input itself is unusable (released by its owner); nothing more to discard
      }
      return new FrameError(
          FrameStatus.INTERNAL, 0, Opcode.NONE, false, false, "decoder failure: " + e);
    }
  }

  private DecodeResult read0(ByteBuf in) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return null;
    }
    if (skipRemaining > 0) {
      int n = Math.min(skipRemaining, in.readableBytes());
      in.skipBytes(n);
      skipRemaining -= n;
      if (skipRemaining > 0) {
        return null;
      }
    }
    if (in.readableBytes() < FrameCodec.HEADER_BYTES) {
      return null;
    }
    final int start = in.readerIndex();
    in.getBytes(start, header);
    final ByteBuffer h = headerView;

    // 1. Can the header be trusted at all?
    int magic = h.getInt(0);
    if (magic != FrameCodec.MAGIC) {
      return fatal(
          in,
          FrameStatus.BAD_FRAME,
          0,
          Opcode.NONE,
          false,
          "bad magic 0x" + Integer.toHexString(magic) + ", expected 0x4648564b ('KVHF')");
    }
    crc.reset();
    crc.update(header, 0, FrameCodec.HEADER_CRC_COVERED_BYTES);
    int expectedCrc = h.getInt(FrameCodec.HEADER_CRC_COVERED_BYTES);
    if ((int) crc.getValue() != expectedCrc) {
      return fatal(
          in,
          FrameStatus.BAD_HEADER_CHECKSUM,
          0,
          Opcode.NONE,
          false,
          "header CRC32C mismatch: computed 0x"
              + Integer.toHexString((int) crc.getValue())
              + ", header says 0x"
              + Integer.toHexString(expectedCrc));
    }

    // The header is what the sender wrote.
    final int version = header[4] & 0xFF;
    final int opcodeCode = header[5] & 0xFF;
    final int flags = h.getShort(6) & 0xFFFF;
    final long requestId = h.getLong(8);
    final int statusCode = h.getShort(16) & 0xFFFF;
    final int reserved18 = h.getShort(18);
    final long blockCount = h.getInt(20) & 0xFFFF_FFFFL;
    final long nsLow = h.getLong(24);
    final long nsHigh = h.getLong(32);
    final long descriptorLength = h.getInt(40) & 0xFFFF_FFFFL;
    final long payloadLength = h.getInt(44) & 0xFFFF_FFFFL;
    final int reserved48 = h.getInt(48);
    final boolean response = (flags & FrameCodec.FLAG_RESPONSE) != 0;
    final Opcode opcode = Opcode.byCode(opcodeCode);
    final Opcode knownOpcode = opcode != null ? opcode : Opcode.NONE;

    // 2. Is it short enough to buffer?
    long frameLength = FrameCodec.HEADER_BYTES + descriptorLength + payloadLength;
    if (frameLength > limits.maxFrameBytes()) {
      return fatal(
          in,
          FrameStatus.FRAME_TOO_LARGE,
          requestId,
          knownOpcode,
          response,
          "frame of "
              + frameLength
              + " bytes is over the limit of "
              + limits.maxFrameBytes()
              + " bytes");
    }
    final int length = (int) frameLength;

    // 3. Is the header's content valid? Any error from here on skips exactly this frame.
    boolean helloRequest = opcode == Opcode.HELLO && !response;
    if ((version < FrameCodec.MIN_VERSION || version > FrameCodec.MAX_VERSION)
        && !(helloRequest && version == Frame.HELLO_REQUEST_VERSION)) {
      return skip(
          in,
          length,
          FrameStatus.UNSUPPORTED_VERSION,
          requestId,
          knownOpcode,
          response,
          "version "
              + version
              + " is not supported; this peer speaks "
              + FrameCodec.MIN_VERSION
              + ".."
              + FrameCodec.MAX_VERSION);
    }
    String problem = null;
    FrameStatus rejection = FrameStatus.BAD_FRAME;
    FrameStatus status = FrameStatus.byCode(statusCode);
    boolean error = status != null && status != FrameStatus.OK;
    if ((flags & ~FrameCodec.FLAG_RESPONSE) != 0) {
      problem = "reserved flag bits set: 0x" + Integer.toHexString(flags);
    } else if (status == null) {
      problem = "unknown frame status " + statusCode;
    } else if (error && !response) {
      problem = "a request must have status 0 (OK), got " + status;
    } else if (opcode == null || (opcode == Opcode.NONE && !error)) {
      rejection = FrameStatus.UNKNOWN_OPCODE;
      problem = "unknown opcode " + opcodeCode;
    } else if (reserved18 != 0 || reserved48 != 0) {
      problem = "reserved header bytes 18..19 and 48..51 must be 0";
    } else if (requestId == 0 && !error) {
      problem = "request id 0 is reserved for errors that belong to no request";
    } else if (error) {
      if (blockCount != 0 || descriptorLength != 0 || (nsLow | nsHigh) != 0) {
        problem = "an error response has no blocks, no descriptor section and namespace 0";
      } else if (payloadLength > FrameCodec.MAX_ERROR_MESSAGE_BYTES) {
        problem =
            "error message of "
                + payloadLength
                + " bytes is over "
                + FrameCodec.MAX_ERROR_MESSAGE_BYTES;
      }
    } else if (opcode == Opcode.HELLO) {
      if (blockCount != 0
          || descriptorLength != FrameCodec.HELLO_BODY_BYTES
          || payloadLength != 0
          || (nsLow | nsHigh) != 0) {
        problem =
            "a HELLO has no blocks, a "
                + FrameCodec.HELLO_BODY_BYTES
                + "-byte body, no payload and namespace 0";
      }
    } else if (opcode == Opcode.PING) {
      if (blockCount != 0 || descriptorLength != 0 || (nsLow | nsHigh) != 0) {
        problem = "a PING has no blocks, no descriptor section and namespace 0";
      }
    } else if (blockCount > limits.maxBlocksPerFrame()) {
      rejection = FrameStatus.FRAME_TOO_LARGE;
      problem =
          blockCount + " blocks is over the limit of " + limits.maxBlocksPerFrame() + " per frame";
    } else if (descriptorLength != blockCount * FrameCodec.DESCRIPTOR_BYTES) {
      problem =
          "descriptor section of "
              + descriptorLength
              + " bytes does not hold "
              + blockCount
              + " descriptors of "
              + FrameCodec.DESCRIPTOR_BYTES
              + " bytes";
    } else if (payloadLength != 0 && !FrameRules.carriesBlockPayloads(opcode, response)) {
      problem = "a " + opcode + (response ? " response" : " request") + " carries no payload";
    }
    if (problem != null) {
      return skip(in, length, rejection, requestId, knownOpcode, response, problem);
    }

    // 4. The body: wait for the whole frame, then check it.
    if (in.readableBytes() < length) {
      return null;
    }
    final int bodyStart = start + FrameCodec.HEADER_BYTES;
    final int count = (int) blockCount;
    Hello hello = null;
    int[] payloadOffsets = null;
    if (opcode == Opcode.HELLO && !error) {
      int min = in.getUnsignedByte(bodyStart);
      int max = in.getUnsignedByte(bodyStart + 1);
      long maxFrameBytes = in.getUnsignedIntLE(bodyStart + 4);
      long maxBlocks = in.getUnsignedIntLE(bodyStart + 8);
      problem = Hello.versionRangeProblem(min, max);
      if (problem == null
          && (in.getShortLE(bodyStart + 2) != 0 || in.getIntLE(bodyStart + 12) != 0)) {
        problem = "HELLO body reserved bytes must be 0";
      } else if (problem == null
          && (maxFrameBytes < FrameLimits.MIN_FRAME_BYTES
              || maxFrameBytes > FrameLimits.MAX_FRAME_BYTES_CEILING
              || maxBlocks < 1
              || maxBlocks > FrameLimits.MAX_BLOCKS_CEILING)) {
        problem =
            "HELLO limits out of range: maxFrameBytes "
                + maxFrameBytes
                + ", maxBlocksPerFrame "
                + maxBlocks;
      } else if (problem == null && response && (version < min || version > max)) {
        problem =
            "HELLO response chose version "
                + version
                + " outside its own range "
                + min
                + ".."
                + max;
      }
      if (problem == null) {
        hello = new Hello(min, max, new FrameLimits((int) maxFrameBytes, (int) maxBlocks));
      }
    } else if (opcode.isBlockOp() && !error) {
      boolean carries = FrameRules.carriesBlockPayloads(opcode, response);
      if (carries) {
        payloadOffsets = new int[count + 1];
      }
      long sum = 0;
      for (int i = 0; i < count && problem == null; i++) {
        int d = bodyStart + i * FrameCodec.DESCRIPTOR_BYTES;
        int blockLength = in.getIntLE(d + 32);
        problem =
            FrameRules.descriptorProblem(
                opcode,
                response,
                blockLength,
                in.getIntLE(d + 36),
                in.getUnsignedShortLE(d + 40),
                in.getUnsignedByte(d + 42),
                in.getUnsignedByte(d + 43),
                in.getIntLE(d + 44));
        if (problem != null) {
          problem = "block " + i + ": " + problem;
        } else if (carries) {
          sum += blockLength;
          if (sum > payloadLength) {
            problem =
                "descriptor lengths up to block "
                    + i
                    + " add up to "
                    + sum
                    + " bytes, more than the payload section's "
                    + payloadLength;
          } else {
            payloadOffsets[i + 1] = (int) sum;
          }
        }
      }
      if (problem == null && carries && sum != payloadLength) {
        problem =
            "descriptor lengths add up to "
                + sum
                + " bytes but the payload section is "
                + payloadLength
                + " bytes";
      }
    }
    if (problem != null) {
      return skip(in, length, FrameStatus.BAD_FRAME, requestId, knownOpcode, response, problem);
    }

    // 5. Hand out the frame: its sections are slices of the input, not copies.
    NamespaceId namespaceId = NamespaceId.of(Long.reverseBytes(nsLow), Long.reverseBytes(nsHigh));
    in.skipBytes(FrameCodec.HEADER_BYTES);
    ByteBuf descriptors =
        descriptorLength == 0
            ? Unpooled.EMPTY_BUFFER
            : in.readRetainedSlice((int) descriptorLength);
    ByteBuf payload =
        payloadLength == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice((int) payloadLength);
    return new Frame(
        version,
        opcode,
        response,
        requestId,
        status,
        namespaceId,
        count,
        descriptors,
        payload,
        payloadOffsets,
        hello);
  }

  private FrameError fatal(
      ByteBuf in,
      FrameStatus status,
      long requestId,
      Opcode opcode,
      boolean response,
      String message) {
    failed = true;
    in.skipBytes(in.readableBytes());
    return new FrameError(status, requestId, opcode, response, false, message);
  }

  private FrameError skip(
      ByteBuf in,
      int frameLength,
      FrameStatus status,
      long requestId,
      Opcode opcode,
      boolean response,
      String message) {
    int n = Math.min(frameLength, in.readableBytes());
    in.skipBytes(n);
    skipRemaining = frameLength - n;
    return new FrameError(status, requestId, opcode, response, true, message);
  }
}
