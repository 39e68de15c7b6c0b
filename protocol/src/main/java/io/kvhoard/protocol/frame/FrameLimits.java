package io.kvhoard.protocol.frame;

/**
 * What a receiver accepts: the longest frame (header included) and the most blocks per frame. The
 * decoder checks both on the 56-byte header, before it waits for or buffers the body; HELLO tells
 * the peer these values so that it never sends more.
 *
 * <p>Immutable and thread-safe. Validated on construction.
 *
 * @param maxFrameBytes longest accepted frame in bytes, header included, in [{@link
 *     #MIN_FRAME_BYTES}, {@link #MAX_FRAME_BYTES_CEILING}]
 * @param maxBlocksPerFrame most descriptors in one block frame, in [1, {@link #MAX_BLOCKS_CEILING}]
 */
public record FrameLimits(int maxFrameBytes, int maxBlocksPerFrame) {
  /** Smallest allowed frame limit: room for a header and the longest error message, with margin. */
  public static final int MIN_FRAME_BYTES = 4096;

  /**
   * Largest allowed frame limit, 1 GiB. Netty indexes buffers with an {@code int}; the decoder's
   * cumulation holds a whole frame plus the start of the next one, so a frame must stay well under
   * 2 GiB. 1 GiB is 32 times the largest block the architecture plans for (a 32 MiB chunk).
   */
  public static final int MAX_FRAME_BYTES_CEILING = 1 << 30;

  /** Largest allowed block limit: 2^20 descriptors are 48 MiB of descriptor section. */
  public static final int MAX_BLOCKS_CEILING = 1 << 20;

  /** Default: 256 MiB frames (eight 32 MiB chunks, or 128 2 MiB blocks) and 65,536 blocks. */
  public static final FrameLimits DEFAULT = new FrameLimits(256 << 20, 65_536);

  /**
   * Validates the limits.
   *
   * @throws IllegalArgumentException naming the bad value and its allowed range
   */
  public FrameLimits {
    if (maxFrameBytes < MIN_FRAME_BYTES || maxFrameBytes > MAX_FRAME_BYTES_CEILING) {
      throw new IllegalArgumentException(
          "maxFrameBytes must be in ["
              + MIN_FRAME_BYTES
              + ", "
              + MAX_FRAME_BYTES_CEILING
              + "] (header included), got "
              + maxFrameBytes);
    }
    if (maxBlocksPerFrame < 1 || maxBlocksPerFrame > MAX_BLOCKS_CEILING) {
      throw new IllegalArgumentException(
          "maxBlocksPerFrame must be in [1, " + MAX_BLOCKS_CEILING + "], got " + maxBlocksPerFrame);
    }
  }

  /** These limits with another frame limit. */
  public FrameLimits withMaxFrameBytes(int maxFrameBytes) {
    return new FrameLimits(maxFrameBytes, maxBlocksPerFrame);
  }

  /** These limits with another block limit. */
  public FrameLimits withMaxBlocksPerFrame(int maxBlocksPerFrame) {
    return new FrameLimits(maxFrameBytes, maxBlocksPerFrame);
  }

  /**
   * The limits both sides can honour: the smaller of each. A sender uses {@code
   * own.intersect(peerHello.limits())} to size its batches.
   */
  public FrameLimits intersect(FrameLimits other) {
    return new FrameLimits(
        Math.min(maxFrameBytes, other.maxFrameBytes),
        Math.min(maxBlocksPerFrame, other.maxBlocksPerFrame));
  }

  /** Whether a receiver with these limits accepts {@code frame}. */
  public boolean allows(Frame frame) {
    return frame.frameLength() <= maxFrameBytes && frame.blockCount() <= maxBlocksPerFrame;
  }
}
