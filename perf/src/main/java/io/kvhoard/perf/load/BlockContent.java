package io.kvhoard.perf.load;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * What the harness puts in a block and how it checks a block it gets back. A block is a fixed
 * random body whose first 8 bytes are the key id and last 8 bytes a mix of it, so checking the two
 * ends (16 bytes, whatever the block size) catches a short or long block, another key's block and a
 * block that was never written, without a pass over the payload that would slow the client.
 *
 * <p>Stateless; thread-safe.
 */
final class BlockContent {
  /** Smallest block: room for both stamps. */
  static final int MIN_BLOCK_BYTES = 16;

  /** Alignment of block buffers: a page. */
  static final int PAGE = 4096;

  /**
   * Where in its page the harness's PUT source starts: half a page in, so that no protocol's
   * request header (5 to 104 bytes here) puts the payload's destination in the socket buffer just a
   * few bytes after its source in page offset; see {@link #newBuffer}.
   */
  static final int SOURCE_PAGE_OFFSET = PAGE / 2;

  /**
   * A zeroed direct buffer of {@code bytes} starting {@code pageOffset} bytes into a page.
   *
   * <p>Why the harness places its buffers: on this project's machine (AMD EPYC, where the kernel
   * copies between sockets and user memory with {@code rep movsb}), a copy whose destination lies a
   * few bytes after its source in page offset ran at about half speed (measured through the
   * loopback: a Redis GET into a JDK direct buffer, which starts 16 bytes into its page, behind
   * Redis's 9-byte header; a raw PUT from a page-aligned source behind a 13-byte header). So the
   * harness receives into page-aligned buffers (every protocol's header puts the payload's source
   * after them) and sends from buffers half a page in (every header is shorter than that), the same
   * for every system; the servers' own layouts are part of what is measured.
   */
  static ByteBuffer newBuffer(int bytes, int pageOffset) {
    if (bytes < 0 || pageOffset < 0 || pageOffset >= PAGE) {
      throw new IllegalArgumentException(bytes + " bytes at page offset " + pageOffset);
    }
    int rounded = (int) (((long) bytes + pageOffset + PAGE - 1) & -PAGE);
    return ByteBuffer.allocateDirect(rounded + PAGE).alignedSlice(PAGE).slice(pageOffset, bytes);
  }

  /**
   * A new direct buffer of {@code blockBytes} seeded random bytes, the body of every block a
   * connection PUTs, at {@link #SOURCE_PAGE_OFFSET}.
   */
  static ByteBuffer newBlock(int blockBytes, long seed) {
    if (blockBytes < MIN_BLOCK_BYTES) {
      throw new IllegalArgumentException(
          "a block must be at least " + MIN_BLOCK_BYTES + " bytes, got " + blockBytes);
    }
    ByteBuffer block = newBuffer(blockBytes, SOURCE_PAGE_OFFSET);
    SplittableRandom random = new SplittableRandom(seed);
    while (block.remaining() >= 8) {
      block.putLong(random.nextLong());
    }
    while (block.hasRemaining()) {
      block.put((byte) random.nextInt());
    }
    return block.clear();
  }

  /** Writes {@code id}'s stamps into both ends of {@code block} (indices 0 and limit - 8). */
  static void stamp(ByteBuffer block, long id) {
    block.putLong(0, id);
    block.putLong(block.limit() - 8, tail(id));
  }

  /**
   * Checks that {@code got} (position 0, limit its length) is the block of {@code expectedBytes}
   * stamped with {@code id}.
   *
   * @throws WrongBlockException saying what differs
   */
  static void verify(String system, long id, int expectedBytes, ByteBuffer got)
      throws WrongBlockException {
    int length = got.limit();
    if (length != expectedBytes) {
      throw new WrongBlockException(
          system
              + " returned "
              + length
              + " bytes for key "
              + Long.toHexString(id)
              + ", which was stored with "
              + expectedBytes);
    }
    long head = got.getLong(0);
    long tail = got.getLong(length - 8);
    if (head != id || tail != tail(id)) {
      throw new WrongBlockException(
          system
              + " returned the wrong bytes for key "
              + Long.toHexString(id)
              + ": its first 8 bytes name key "
              + Long.toHexString(head)
              + (head == id ? " but its last 8 bytes do not match" : ""));
    }
  }

  /** The last 8 bytes of {@code id}'s block: a bijective mix (SplitMix64's finalizer). */
  static long tail(long id) {
    long z = id + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
