package io.kvhoard.server.store.host;

import io.kvhoard.server.store.AbstractBlockWriter;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockVisitor;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.NoSpaceException;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.Tier;
import io.kvhoard.server.store.TierKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AbstractReferenceCounted;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host tier: blocks in off-heap pages ({@link HostMemory}), leased without copies.
 *
 * <p>Every committed block holds one reference for the tier and one per outstanding lease; its
 * pages go back to the free list when the count reaches zero, so a block removed (or evicted) while
 * a socket is still sending it stays intact until the send completes. Futures complete at once.
 *
 * <p>Thread-safe, per the {@link Tier} contract.
 */
public final class HostTier implements Tier {
  /** Default page size: 256 KiB (a 2 MiB block is 8 pages, a 32 MiB chunk 128). */
  public static final int DEFAULT_PAGE_SIZE = 256 * 1024;

  private final HostMemory memory;
  private final ConcurrentHashMap<StoreKey, HostBlock> blocks = new ConcurrentHashMap<>();
  private final AtomicLong leases = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  private HostTier(HostMemory memory) {
    this.memory = memory;
  }

  /** A builder; the capacity is required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public TierKind kind() {
    return TierKind.HOST;
  }

  @Override
  public long capacityBytes() {
    return memory.capacityBytes();
  }

  @Override
  public long usedBytes() {
    return (long) (memory.pageCount() - memory.freePages()) * memory.pageSize();
  }

  @Override
  public long blockCount() {
    return blocks.size();
  }

  /** Page size in bytes. */
  public int pageSize() {
    return memory.pageSize();
  }

  /** Whether slabs are mapped shared memory (else direct buffers). */
  public boolean sharedMemory() {
    return memory.mapped();
  }

  /** Leases handed out and not yet released (for invariant checks and metrics). */
  public long outstandingLeases() {
    return leases.get();
  }

  @Override
  public BlockWriter reserve(StoreKey key, long length) throws StoreException {
    Objects.requireNonNull(key, "key");
    if (length < 1) {
      throw new IllegalArgumentException("a block is at least 1 byte long, got " + length);
    }
    checkOpen();
    long needed = memory.pagesFor(length);
    if (needed > memory.pageCount()) {
      throw new NoSpaceException(
          TierKind.HOST, length, memory.freePages() * (long) pageSize(), capacityBytes());
    }
    int[] pages = memory.allocate((int) needed);
    if (pages == null) {
      checkOpen();
      throw new NoSpaceException(
          TierKind.HOST, length, memory.freePages() * (long) pageSize(), capacityBytes());
    }
    return new Writer(key, length, pages);
  }

  @Override
  public CompletableFuture<BlockLease> read(StoreKey key) {
    HostBlock b = blocks.get(key);
    if (b == null || !b.tryRetain()) {
      return CompletableFuture.completedFuture(null);
    }
    leases.incrementAndGet();
    return CompletableFuture.completedFuture(new Lease(b));
  }

  @Override
  public boolean contains(StoreKey key) {
    return blocks.containsKey(key);
  }

  @Override
  public boolean leased(StoreKey key) {
    HostBlock b = blocks.get(key);
    return b != null && b.refs.get() > 1;
  }

  @Override
  public void forEachBlock(BlockVisitor visitor) {
    Objects.requireNonNull(visitor, "visitor");
    for (HostBlock b : blocks.values()) {
      visitor.visit(b.key, b.length, b.crc32c);
    }
  }

  @Override
  public boolean remove(StoreKey key) {
    HostBlock b = blocks.remove(key);
    if (b == null) {
      return false;
    }
    b.release();
    return true;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (StoreKey k : blocks.keySet()) {
      remove(k);
    }
    memory.close();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("host tier is closed");
    }
  }

  /** A committed block: its pages and a count of the tier's and the leases' references. */
  private final class HostBlock {
    final StoreKey key;
    final int[] pages;
    final long length;
    final int crc32c;
    final AtomicInteger refs = new AtomicInteger(1); // the tier's own reference

    HostBlock(StoreKey key, int[] pages, long length, int crc32c) {
      this.key = key;
      this.pages = pages;
      this.length = length;
      this.crc32c = crc32c;
    }

    boolean tryRetain() {
      for (; ; ) {
        int r = refs.get();
        if (r == 0) {
          return false;
        }
        if (refs.compareAndSet(r, r + 1)) {
          return true;
        }
      }
    }

    void release() {
      if (refs.decrementAndGet() == 0) {
        memory.free(pages);
      }
    }

    /** Views of the pages, the last one cut to the block's end. */
    ByteBuffer[] views() {
      ByteBuffer[] views = new ByteBuffer[pages.length];
      int pageSize = memory.pageSize();
      for (int i = 0; i < pages.length; i++) {
        long remaining = length - (long) i * pageSize;
        views[i] = memory.page(pages[i], (int) Math.min(pageSize, remaining));
      }
      return views;
    }
  }

  private final class Lease extends AbstractReferenceCounted implements BlockLease {
    private final HostBlock block;

    Lease(HostBlock block) {
      this.block = block;
    }

    @Override
    public StoreKey key() {
      return block.key;
    }

    @Override
    public long length() {
      return block.length;
    }

    @Override
    public int crc32c() {
      return block.crc32c;
    }

    @Override
    public TierKind tier() {
      return TierKind.HOST;
    }

    @Override
    public ByteBuf content() {
      ensureAccessible();
      return Unpooled.wrappedBuffer(block.views()).asReadOnly();
    }

    @Override
    public CompletableFuture<Void> copyTo(ByteBuf dst) {
      ensureAccessible();
      try {
        for (ByteBuffer page : block.views()) {
          dst.writeBytes(page);
        }
        return CompletableFuture.completedFuture(null);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    private void ensureAccessible() {
      if (refCnt() == 0) {
        throw new io.netty.util.IllegalReferenceCountException(0);
      }
    }

    @Override
    protected void deallocate() {
      leases.decrementAndGet();
      block.release();
    }

    @Override
    public Lease retain() {
      super.retain();
      return this;
    }

    @Override
    public Lease retain(int increment) {
      super.retain(increment);
      return this;
    }

    @Override
    public Lease touch() {
      return this;
    }

    @Override
    public Lease touch(Object hint) {
      return this;
    }
  }

  private final class Writer extends AbstractBlockWriter {
    private int[] pages; // null once committed or aborted

    Writer(StoreKey key, long length, int[] pages) {
      super(key, length);
      this.pages = pages;
    }

    @Override
    protected boolean isOpen() {
      return pages != null;
    }

    @Override
    protected CompletableFuture<Void> writeChecked(long offset, ByteBuf src, int n) {
      int pageSize = memory.pageSize();
      int srcIndex = src.readerIndex();
      long pos = offset;
      while (n > 0) {
        int page = (int) (pos / pageSize);
        int inPage = (int) (pos % pageSize);
        int chunk = Math.min(n, pageSize - inPage);
        ByteBuffer dst = memory.page(pages[page], pageSize).position(inPage).limit(inPage + chunk);
        src.getBytes(srcIndex, dst);
        srcIndex += chunk;
        pos += chunk;
        n -= chunk;
      }
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> commit(int crc32c) {
      if (pages == null) {
        return notOpen();
      }
      int[] owned = pages;
      pages = null;
      if (closed.get()) {
        memory.free(owned);
        return CompletableFuture.failedFuture(new IllegalStateException("host tier is closed"));
      }
      HostBlock b = new HostBlock(key(), owned, length(), crc32c);
      if (blocks.putIfAbsent(key(), b) != null) {
        memory.free(owned); // first writer wins
        return CompletableFuture.completedFuture(false);
      }
      return CompletableFuture.completedFuture(true);
    }

    @Override
    public void close() {
      if (pages != null) {
        memory.free(pages);
        pages = null;
      }
    }
  }

  /**
   * Whether the tmpfs has room for the whole tier: a mapping larger than its free space would fault
   * (SIGBUS) on the first write past it, so the tier takes direct buffers instead.
   */
  private static boolean roomFor(Path dir, long bytes) {
    try {
      long free = Files.getFileStore(dir).getUsableSpace();
      if (free >= bytes) {
        return true;
      }
      System.getLogger(HostTier.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "host tier: "
                  + dir
                  + " has "
                  + free
                  + " bytes free, less than the "
                  + bytes
                  + " asked for; using direct buffers (bounded by -XX:MaxDirectMemorySize)");
      return false;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** Builds a {@link HostTier}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private long capacityBytes;
    private int pageSize = DEFAULT_PAGE_SIZE;
    private Path sharedMemoryDirectory = Paths.get("/dev/shm");
    private boolean pretouch;

    private Builder() {}

    /**
     * Back every page with memory at build time (default {@code false}): the first puts then pay no
     * page faults, and memory the system cannot give fails the build rather than a later put. Takes
     * about a second per 4 GiB.
     */
    public Builder pretouch(boolean pretouch) {
      this.pretouch = pretouch;
      return this;
    }

    /** Bytes of host memory to reserve, at least one page. Required. */
    public Builder capacityBytes(long capacityBytes) {
      if (capacityBytes < 1) {
        throw new IllegalArgumentException("host capacity must be positive, got " + capacityBytes);
      }
      this.capacityBytes = capacityBytes;
      return this;
    }

    /** Page size: a power of two from 4 KiB to 1 GiB; default 256 KiB. */
    public Builder pageSize(int pageSize) {
      this.pageSize = pageSize;
      return this;
    }

    /**
     * A tmpfs directory to map slabs from (default {@code /dev/shm}); null, or a directory that is
     * not writable, for direct buffers instead (bounded by {@code -XX:MaxDirectMemorySize}).
     */
    public Builder sharedMemoryDirectory(Path dir) {
      this.sharedMemoryDirectory = dir;
      return this;
    }

    /**
     * Reserves the memory and builds the tier.
     *
     * @throws StoreException if the memory cannot be had
     */
    public HostTier build() throws StoreException {
      if (capacityBytes == 0) {
        throw new IllegalStateException("host capacity is required");
      }
      Path shm =
          sharedMemoryDirectory != null
                  && Files.isDirectory(sharedMemoryDirectory)
                  && Files.isWritable(sharedMemoryDirectory)
                  && roomFor(sharedMemoryDirectory, capacityBytes)
              ? sharedMemoryDirectory
              : null;
      return new HostTier(HostMemory.allocate(capacityBytes, pageSize, shm, pretouch));
    }
  }
}
