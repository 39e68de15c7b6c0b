package io.kvhoard.server.store.disk;

import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TierKind;
import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.IllegalReferenceCountException;
import java.util.concurrent.CompletableFuture;

/**
 * A lease on a block read from disk: the block's verified bytes in a direct buffer of its own,
 * freed by the lease's last release (so it outlives a removal of the block, and the tier itself).
 *
 * <p>Thread-safe for reads of the content; reference counting per Netty's rules.
 */
final class DiskLease extends AbstractReferenceCounted implements BlockLease {
  private final StoreKey key;
  private final BlockMeta meta;
  private final ByteBuf bytes;
  private final Runnable onRelease;

  DiskLease(StoreKey key, BlockMeta meta, ByteBuf bytes, Runnable onRelease) {
    this.key = key;
    this.meta = meta;
    this.bytes = bytes;
    this.onRelease = onRelease;
  }

  @Override
  public StoreKey key() {
    return key;
  }

  @Override
  public long length() {
    return meta.length();
  }

  @Override
  public int crc32c() {
    return meta.crc32c();
  }

  @Override
  public TierKind tier() {
    return TierKind.DISK;
  }

  @Override
  public ByteBuf content() {
    ensureAccessible();
    return bytes.asReadOnly();
  }

  @Override
  public CompletableFuture<Void> copyTo(ByteBuf dst) {
    ensureAccessible();
    try {
      dst.writeBytes(bytes, 0, bytes.writerIndex());
      return CompletableFuture.completedFuture(null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void ensureAccessible() {
    if (refCnt() == 0) {
      throw new IllegalReferenceCountException(0);
    }
  }

  @Override
  protected void deallocate() {
    bytes.release();
    onRelease.run();
  }

  @Override
  public DiskLease retain() {
    super.retain();
    return this;
  }

  @Override
  public DiskLease retain(int increment) {
    super.retain(increment);
    return this;
  }

  @Override
  public DiskLease touch() {
    bytes.touch();
    return this;
  }

  @Override
  public DiskLease touch(Object hint) {
    bytes.touch(hint);
    return this;
  }
}
