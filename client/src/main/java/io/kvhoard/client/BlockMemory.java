package io.kvhoard.client;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * The memory a prompt's KV blocks are read into ({@link KvHoardClient#retrieve}) or written from
 * ({@link KvHoardClient#store}): block {@code i} of the prompt is {@link #block(int) block(i)}, a
 * view of exactly {@link #blockBytes()} bytes somewhere in the caller's buffers.
 *
 * <p>{@link #contiguous} lays the blocks end to end in one buffer; {@link PageTable} maps each
 * block to a page of an engine's paged KV memory ("block i → (buffer, offset)"), the shape vLLM's
 * block tables have and the one an RDMA transport registers. Direct buffers are read into and
 * written from with no copy but the kernel's; heap buffers work, through the JDK's temporary direct
 * buffers.
 *
 * <p>Implementations must return independent views (their own position and limit) and be safe to
 * call from several threads; the client writes each block's bytes from one thread.
 */
public interface BlockMemory {
  /** Bytes of one block; must equal the client's {@code KvLayout.bytesPerBlock()}. */
  int blockBytes();

  /** How many blocks this memory holds; blocks of a prompt beyond it are not transferred. */
  int blocks();

  /**
   * A view of block {@code index}: position 0, limit and capacity {@link #blockBytes()}.
   *
   * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, blocks())}
   */
  ByteBuffer block(int index);

  /**
   * Blocks laid end to end in {@code buffer} from its index 0: block {@code i} at {@code i ×
   * blockBytes}; as many as fit its capacity.
   */
  static BlockMemory contiguous(ByteBuffer buffer, int blockBytes) {
    Objects.requireNonNull(buffer, "buffer");
    requirePositive(blockBytes);
    int blocks = buffer.capacity() / blockBytes;
    int[] offsets = new int[blocks];
    for (int i = 0; i < blocks; i++) {
      offsets[i] = i * blockBytes;
    }
    return PageTable.of(blockBytes, List.of(buffer), new int[blocks], offsets);
  }

  /** One buffer per block, each of exactly {@code blockBytes} capacity. */
  static BlockMemory ofBlocks(List<ByteBuffer> blocks, int blockBytes) {
    requirePositive(blockBytes);
    int[] index = new int[blocks.size()];
    for (int i = 0; i < index.length; i++) {
      if (blocks.get(i).capacity() != blockBytes) {
        throw new IllegalArgumentException(
            "block "
                + i
                + " has a capacity of "
                + blocks.get(i).capacity()
                + " bytes; each block buffer must hold exactly "
                + blockBytes);
      }
      index[i] = i;
    }
    return PageTable.of(blockBytes, blocks, index, new int[blocks.size()]);
  }

  private static void requirePositive(int blockBytes) {
    if (blockBytes < 1) {
      throw new IllegalArgumentException("blockBytes must be at least 1, got " + blockBytes);
    }
  }
}
