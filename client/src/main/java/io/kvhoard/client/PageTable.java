package io.kvhoard.client;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A page table over an engine's paged KV memory: block {@code i} of a prompt lives in buffer {@code
 * bufferIndex[i]} at byte {@code offset[i]}. An engine builds one per request from its block table
 * (vLLM: the request's block ids, each a page of its KV cache tensors).
 *
 * <p>Validated eagerly: every page lies inside its buffer, and no two pages overlap (a retrieve
 * into overlapping pages would let one block's bytes overwrite another's).
 *
 * <p>Immutable (the bytes are the caller's) and thread-safe.
 */
public final class PageTable implements BlockMemory {
  private final int blockBytes;
  private final List<ByteBuffer> buffers;
  private final int[] bufferIndex;
  private final int[] offsets;

  private PageTable(int blockBytes, List<ByteBuffer> buffers, int[] bufferIndex, int[] offsets) {
    this.blockBytes = blockBytes;
    this.buffers = buffers;
    this.bufferIndex = bufferIndex;
    this.offsets = offsets;
  }

  /**
   * Block {@code i} at {@code buffers[bufferIndex[i]]}, byte {@code offsets[i]}.
   *
   * @throws IllegalArgumentException naming the first page that is out of its buffer or overlaps
   *     another
   */
  public static PageTable of(
      int blockBytes, List<ByteBuffer> buffers, int[] bufferIndex, int[] offsets) {
    if (blockBytes < 1) {
      throw new IllegalArgumentException("blockBytes must be at least 1, got " + blockBytes);
    }
    List<ByteBuffer> bufs = List.copyOf(buffers);
    Objects.requireNonNull(bufferIndex, "bufferIndex");
    Objects.requireNonNull(offsets, "offsets");
    if (bufferIndex.length != offsets.length) {
      throw new IllegalArgumentException(
          "bufferIndex has "
              + bufferIndex.length
              + " entries but offsets has "
              + offsets.length
              + ": one of each per block");
    }
    int n = offsets.length;
    for (int i = 0; i < n; i++) {
      int b = bufferIndex[i];
      if (b < 0 || b >= bufs.size()) {
        throw new IllegalArgumentException(
            "block " + i + " names buffer " + b + ", but there are " + bufs.size());
      }
      long end = (long) offsets[i] + blockBytes;
      if (offsets[i] < 0 || end > bufs.get(b).capacity()) {
        throw new IllegalArgumentException(
            "block "
                + i
                + " at offset "
                + offsets[i]
                + " of buffer "
                + b
                + " ends at byte "
                + end
                + ", past the buffer's capacity of "
                + bufs.get(b).capacity());
      }
    }
    checkNoOverlap(blockBytes, bufferIndex, offsets);
    return new PageTable(blockBytes, bufs, bufferIndex.clone(), offsets.clone());
  }

  /**
   * Pages of one pool: block {@code i} is page {@code pages[i]} of {@code pool}, at byte {@code
   * pages[i] × blockBytes} (a vLLM block table over one KV tensor).
   */
  public static PageTable pages(ByteBuffer pool, int blockBytes, int[] pages) {
    Objects.requireNonNull(pages, "pages");
    int[] offsets = new int[pages.length];
    for (int i = 0; i < pages.length; i++) {
      long off = (long) pages[i] * blockBytes;
      if (pages[i] < 0 || off > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("block " + i + " names page " + pages[i]);
      }
      offsets[i] = (int) off;
    }
    return of(blockBytes, List.of(pool), new int[pages.length], offsets);
  }

  private static void checkNoOverlap(int blockBytes, int[] bufferIndex, int[] offsets) {
    int n = offsets.length;
    long[] sorted = new long[n]; // (buffer << 32 | offset), sorted: neighbours must not overlap
    for (int i = 0; i < n; i++) {
      sorted[i] = ((long) bufferIndex[i] << 32) | offsets[i];
    }
    java.util.Arrays.sort(sorted);
    for (int i = 1; i < n; i++) {
      if ((sorted[i] >>> 32) == (sorted[i - 1] >>> 32)
          && (sorted[i] & 0xFFFF_FFFFL) - (sorted[i - 1] & 0xFFFF_FFFFL) < blockBytes) {
        throw new IllegalArgumentException(
            "two blocks overlap in buffer "
                + (sorted[i] >>> 32)
                + " (at offsets "
                + (sorted[i - 1] & 0xFFFF_FFFFL)
                + " and "
                + (sorted[i] & 0xFFFF_FFFFL)
                + ", blocks of "
                + blockBytes
                + " bytes)");
      }
    }
  }

  @Override
  public int blockBytes() {
    return blockBytes;
  }

  @Override
  public int blocks() {
    return offsets.length;
  }

  @Override
  public ByteBuffer block(int index) {
    Objects.checkIndex(index, offsets.length);
    return buffers.get(bufferIndex[index]).slice(offsets[index], blockBytes);
  }

  /** The buffer index of block {@code index}. */
  public int bufferOf(int index) {
    return bufferIndex[Objects.checkIndex(index, offsets.length)];
  }

  /** The byte offset of block {@code index} in its buffer. */
  public int offsetOf(int index) {
    return offsets[Objects.checkIndex(index, offsets.length)];
  }
}
