package io.kvhoard.server.store;

import io.netty.buffer.ByteBuf;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The part of a {@link BlockWriter} every tier shares: its key and length, and the checks of a
 * write (still open, inside the block) turned into a failed future as the contract says. A tier
 * supplies where the bytes go.
 */
public abstract class AbstractBlockWriter implements BlockWriter {
  private final StoreKey key;
  private final long length;

  protected AbstractBlockWriter(StoreKey key, long length) {
    this.key = Objects.requireNonNull(key, "key");
    this.length = length;
  }

  @Override
  public final StoreKey key() {
    return key;
  }

  @Override
  public final long length() {
    return length;
  }

  @Override
  public final CompletableFuture<Void> write(long offset, ByteBuf src) {
    try {
      int n = src.readableBytes();
      if (!isOpen()) {
        throw new IllegalStateException("block " + key + " is already committed or aborted");
      }
      if (offset < 0 || offset + n > length) {
        throw new IndexOutOfBoundsException(
            "write of " + n + " bytes at " + offset + " outside block of " + length + " bytes");
      }
      return writeChecked(offset, src, n);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** A failed future for a commit after commit or abort. */
  protected final <T> CompletableFuture<T> notOpen() {
    return CompletableFuture.failedFuture(
        new IllegalStateException("block " + key + " is already committed or aborted"));
  }

  /** Whether the writer is neither committed nor aborted. */
  protected abstract boolean isOpen();

  /**
   * Copies {@code n} readable bytes of {@code src} (indexes unchanged) to {@code offset}, already
   * checked to lie inside the block; may throw, which fails the future.
   */
  protected abstract CompletableFuture<Void> writeChecked(long offset, ByteBuf src, int n);
}
