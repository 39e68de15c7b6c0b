package io.kvhoard.server.store;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;

/**
 * A reserved, not yet visible block: phase two of a put. Space is held from {@link Tier#reserve}
 * until {@link #commit} or {@link #close}; readers never see the block before {@code commit}
 * completes, so they never see a partial block.
 *
 * <p>Not thread-safe: one writer fills one block. {@link #close()} without a commit aborts and
 * frees the space; after a commit it does nothing, so {@code try (BlockWriter w =
 * tier.reserve(..))} is always right.
 */
public interface BlockWriter extends AutoCloseable {
  StoreKey key();

  /** The block's length in bytes, fixed at reservation. */
  long length();

  /**
   * Copies {@code src}'s readable bytes into the block at {@code offset} without changing {@code
   * src}'s indexes; the caller keeps ownership of {@code src} and may release it once the future
   * completes. Completes at once on host memory; asynchronously behind a copy engine or I/O.
   *
   * @throws IndexOutOfBoundsException (through the future) if the bytes do not fit in {@code [0,
   *     length)}
   */
  CompletableFuture<Void> write(long offset, ByteBuf src);

  /**
   * Makes the block visible under its key, with the CRC32C of all its bytes. Completes with {@code
   * true} if this writer created the block, {@code false} if the key was already committed in this
   * tier: the first writer wins, the stored bytes stay, and this writer's space is freed. Never a
   * mix of the two. Completes exceptionally with a {@link StoreException} if the medium failed.
   */
  CompletableFuture<Boolean> commit(int crc32c);

  /** Aborts an uncommitted block and frees its space; does nothing after a commit. Idempotent. */
  @Override
  void close();
}
