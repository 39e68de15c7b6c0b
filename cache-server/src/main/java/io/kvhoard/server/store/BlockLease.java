package io.kvhoard.server.store;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import java.util.concurrent.CompletableFuture;

/**
 * A read lease on a committed block: while it is held (reference count above zero) the block's
 * memory is neither evicted nor reused, even if the block is removed meanwhile. Netty's rule:
 * whoever holds the last reference releases it, once, when done (a server releases it when the
 * write of {@link #content()} to the socket completes or fails).
 */
public interface BlockLease extends ReferenceCounted {
  StoreKey key();

  long length();

  /** The CRC32C recorded at commit, for the reader to check after transfer. */
  int crc32c();

  /** The tier the bytes are read from. */
  TierKind tier();

  /**
   * The block's bytes as a read-only buffer over the tier's own memory, without a copy, for
   * zero-copy sends; valid only while this lease is held (the buffer is not reference counted on
   * its own: do not release it, release the lease).
   *
   * @throws UnsupportedOperationException if the tier's memory is not host-addressable (GPU): use
   *     {@link #copyTo}
   */
  ByteBuf content();

  /**
   * Copies the whole block into {@code dst} at its writer index and advances it. Completes at once
   * for host memory; asynchronously after a device-to-host copy for the GPU tier.
   */
  CompletableFuture<Void> copyTo(ByteBuf dst);

  @Override
  BlockLease retain();

  @Override
  BlockLease retain(int increment);

  @Override
  BlockLease touch();

  @Override
  BlockLease touch(Object hint);
}
