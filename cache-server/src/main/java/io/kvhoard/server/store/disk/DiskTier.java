package io.kvhoard.server.store.disk;

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
import io.netty.buffer.ByteBufAllocator;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;

/**
 * The disk tier: blocks on local NVMe in RocksDB, read into direct memory and checked against their
 * CRC32C on every read.
 *
 * <h2>Design</h2>
 *
 * <p><b>Layout.</b> Two column families share one key (namespace id + prefix key, {@link
 * BlockMeta}): {@code blocks} holds the bytes, {@code meta} a 21-byte record (length, CRC32C,
 * commit generation). Block values of {@link #MIN_BLOB_BYTES} or more go to blob files (RocksDB's
 * integrated BlobDB, after WiscKey, Lu et al., FAST '16): the LSM tree then holds only keys and
 * blob pointers, so compaction does not rewrite megabytes of KV tensors at every level, and blob
 * garbage collection rewrites the oldest blob files once enough of them is deleted, which gives the
 * space of removed blocks back. Start-up scans only {@code meta} to rebuild the block count and
 * used bytes, never the blobs.
 *
 * <p><b>No write-ahead log.</b> A cache may forget; it must not lie. The WAL would make every
 * commit durable at the cost of writing every block twice (log, then blob file at flush): twice the
 * NVMe bandwidth and wear, for blocks any model server can recompute. So commits go to memtables
 * only ({@code disableWAL}) and are durable once flushed: when a memtable fills ({@link
 * Builder#writeBufferBytes}; a crash loses what is in memtables not yet flushed, up to four), at
 * {@link #flush()}, and at {@link #close()}. What keeps that from lying: (1) a block's data and
 * meta record are written in one {@code WriteBatch}, and {@code atomic_flush} persists the
 * memtables of both families as one unit, so after a crash a meta record never exists without its
 * data (a crash loses whole recent blocks, never half of one); (2) every read checks the block's
 * length and CRC32C against its meta record (RocksDB checks its own checksums of the meta record;
 * the block's bytes are read with RocksDB's checks off, as our CRC32C covers exactly them and
 * RocksDB's blob checksum, in software in the portable rocksdbjni build, halved read throughput),
 * and a block that fails is deleted, counted ({@link #checksumFailures()}) and read as a miss; (3)
 * keys are never overwritten (first writer wins), so a removal undone by a crash only brings back a
 * block that is still the right bytes for its key. RocksDB's paranoid checks are off so that a
 * corrupt file costs the blocks in it, not the whole store; a store whose manifest or meta family
 * is unreadable is discarded at start-up (logged, {@link #discardedCorruptStore()}) and starts
 * empty.
 *
 * <p><b>Checksums at commit.</b> {@link BlockWriter#commit} computes the CRC32C of the staged bytes
 * and refuses a block whose checksum differs from the one given (an {@link
 * IllegalArgumentException} through the future; nothing is stored): a block damaged in transit, or
 * not wholly written, never reaches the disk under a checksum that would vouch for it.
 *
 * <p><b>Direct I/O.</b> Reads, flushes and compactions bypass the page cache where the filesystem
 * allows it (probed at start-up by opening a file with {@code O_DIRECT}; {@link #directIo()} tells
 * which was chosen, and it is logged): the host tier above is the cache, and double caching in the
 * page cache would only evict the rest of the machine's memory.
 *
 * <p><b>Memory.</b> Nothing a block holds touches the Java heap: writes stage into a direct buffer
 * from the {@link Builder#allocator allocator}, reads copy from RocksDB straight into one, and a
 * lease's {@link BlockLease#content()} is that buffer; the last release of the lease frees it.
 * Native memory is the memtables (up to 4 × {@link Builder#writeBufferBytes}) and a 32 MiB block
 * cache for index and filter blocks.
 *
 * <p><b>Accounting.</b> {@link #usedBytes()} and the capacity it is checked against are logical:
 * the sum of the lengths of committed blocks and open reservations. Files take somewhat more (keys,
 * indexes, blob garbage not yet collected); size the capacity below the free space of the disk. A
 * lease holds a private copy, so {@link #remove} frees a block's space at once even while it is
 * leased. The disk space of removed blocks comes back at the compactions RocksDB runs as writes go
 * on, at once with {@link #compact()}, and by itself once the blocks removed since the last
 * compaction add up to {@link Builder#compactAfterRemoving} (a quarter of the capacity by default:
 * an idle tier whose blocks were removed en masse, say by eviction or a tenant's deletion, would
 * otherwise keep their files until the next writes).
 *
 * <p><b>Threads.</b> {@link #read} and {@link BlockWriter#commit} run on the caller's {@link
 * Builder#executor executor}; {@link #contains}, {@link #remove} and {@link BlockWriter#write} (a
 * memory copy) run on the calling thread. RocksDB runs its flushes and compactions on its own
 * native background threads (two flushes at a time). A write that RocksDB stalls (flushes behind,
 * disk full) is retried until {@link Builder#writeTimeout} and then fails, and flushes wait no
 * longer either, so no thread waits forever on a full disk.
 *
 * <p>Thread-safe, per the {@link Tier} contract. Commits and removals of one key are serialized by
 * a striped lock (so two concurrent commits cannot both win); reads take a RocksDB snapshot, so
 * they see a block's meta and data as of one instant.
 */
public final class DiskTier implements Tier {
  /** Where the server keeps the disk tier unless configured otherwise (relative to its cwd). */
  public static final Path DEFAULT_DIRECTORY = Path.of("kvhoard-data", "disk");

  /** Blocks of at least this many bytes are stored in blob files, smaller ones in the LSM tree. */
  public static final int MIN_BLOB_BYTES = 64 * 1024;

  /** The largest block the disk tier stores. */
  public static final long MAX_BLOCK_BYTES = 1L << 30;

  /** Default memtable size (a crash loses the memtables not yet flushed, up to four). */
  public static final long DEFAULT_WRITE_BUFFER_BYTES = 64L << 20;

  private static final int STRIPES = 256;
  private static final long FIRST_BACKOFF_NANOS = 100_000; // 0.1 ms
  private static final System.Logger LOG = System.getLogger(DiskTier.class.getName());

  private final Path directory;
  private final long capacity;
  private final Executor executor;
  private final long compactAfterRemoving;
  private final AtomicLong removedSinceCompaction = new AtomicLong();
  private final AtomicBoolean compactionQueued = new AtomicBoolean();
  private final AtomicLong autoCompactions = new AtomicLong();
  private final ByteBufAllocator allocator;
  private final LongSupplier nanoClock;
  private final long writeTimeoutNanos;
  private final DiskDatabase store;
  private final boolean discardedCorruptStore;

  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];

  /**
   * Read-held by every operation that touches RocksDB, write-held by {@link #close()}: a native
   * handle is never used after it is freed.
   */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private volatile boolean closed; // written under the lifecycle write lock

  private final AtomicLong used = new AtomicLong(); // committed + reserved bytes
  private final AtomicLong committedBytes = new AtomicLong();
  private final AtomicLong blockCount = new AtomicLong();
  private final AtomicLong generation = new AtomicLong();
  private final AtomicLong checksumFailures = new AtomicLong();
  private final AtomicLong leases = new AtomicLong();
  private final AtomicLong openWriters = new AtomicLong();

  private DiskTier(Builder b, DiskOpener.Opened opened) {
    this.directory = b.directory;
    this.capacity = b.capacityBytes;
    this.executor = b.executor;
    this.compactAfterRemoving =
        b.compactAfterRemoving > 0 ? b.compactAfterRemoving : Math.max(1, b.capacityBytes / 4);
    this.allocator = b.allocator;
    this.nanoClock = b.nanoClock;
    this.writeTimeoutNanos = b.writeTimeout.toNanos();
    this.store = opened.store();
    this.discardedCorruptStore = opened.discarded();
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
    DiskOpener.Scan scan = opened.scan();
    used.set(scan.bytes());
    committedBytes.set(scan.bytes());
    blockCount.set(scan.count());
    generation.set(scan.maxGeneration());
    checksumFailures.set(scan.dropped());
  }

  /** A builder; the directory, capacity and executor are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public TierKind kind() {
    return TierKind.DISK;
  }

  /** Logical bytes: the sum of block lengths this tier may hold (see the class comment). */
  @Override
  public long capacityBytes() {
    return capacity;
  }

  /** Logical bytes of committed blocks and open reservations, not the size of the files. */
  @Override
  public long usedBytes() {
    return used.get();
  }

  @Override
  public long blockCount() {
    return blockCount.get();
  }

  /** The data directory. */
  public Path directory() {
    return directory;
  }

  /**
   * Whether reads, flushes and compactions use direct I/O (bypassing the page cache); false where
   * the filesystem refused it or the builder did not ask for it.
   */
  public boolean directIo() {
    return store.directIo;
  }

  /**
   * Blocks that failed verification (length, CRC32C, RocksDB's own checksums, or a malformed meta
   * record), at start-up or on read: each was dropped and read as a miss. Counted since this
   * instance opened.
   */
  public long checksumFailures() {
    return checksumFailures.get();
  }

  /**
   * Compactions this tier started by itself after mass removals ({@link
   * Builder#compactAfterRemoving}) and finished, since this instance opened.
   */
  public long autoCompactions() {
    return autoCompactions.get();
  }

  /**
   * Whether start-up found the store unreadable as a whole (a corrupt manifest or meta family) and
   * discarded it to start empty.
   */
  public boolean discardedCorruptStore() {
    return discardedCorruptStore;
  }

  /** Leases handed out and not yet released (for invariant checks and metrics). */
  public long outstandingLeases() {
    return leases.get();
  }

  /**
   * Makes every block committed so far durable: flushes the memtables to disk and waits. Blocks
   * committed before a crash and not flushed are lost (never half-kept).
   *
   * @throws StoreException if the flush failed (disk full or failing)
   */
  public void flush() throws StoreException {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      flushNow();
    } catch (RocksDBException e) {
      throw failure("could not flush blocks to disk", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Gives back the disk space of removed blocks now. A removal frees its block's logical space at
   * once, but the bytes stay in their blob file until a compaction of the block index drops the
   * removed keys: then blob files that hold only removed blocks are deleted, and live blocks in the
   * oldest quarter of the blob files are rewritten so that those files go too. RocksDB compacts by
   * itself every few flushes, so a tier that keeps writing needs no call; a tier that removed many
   * blocks and then sits idle keeps their files until this is called. Flushes first, then compacts,
   * on the calling thread, until done.
   *
   * @throws StoreException if the flush or the compaction failed (disk full or failing)
   */
  public void compact() throws StoreException {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      flushNow();
      store.compactBlocks();
    } catch (RocksDBException e) {
      throw failure("could not compact the block index", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public BlockWriter reserve(StoreKey key, long length) throws StoreException {
    Objects.requireNonNull(key, "key");
    if (length < 1) {
      throw new IllegalArgumentException("a block is at least 1 byte long, got " + length);
    }
    if (length > capacity) {
      throw new NoSpaceException(TierKind.DISK, length, capacity - used.get(), capacity);
    }
    if (length > MAX_BLOCK_BYTES) {
      throw new IllegalArgumentException(
          "the disk tier stores blocks of at most " + MAX_BLOCK_BYTES + " bytes, got " + length);
    }
    checkOpen();
    for (; ; ) {
      long u = used.get();
      if (u + length > capacity) {
        throw new NoSpaceException(TierKind.DISK, length, Math.max(0, capacity - u), capacity);
      }
      if (used.compareAndSet(u, u + length)) {
        break;
      }
    }
    ByteBuf staging;
    try {
      staging = allocator.directBuffer((int) length, (int) length);
    } catch (OutOfMemoryError e) {
      used.addAndGet(-length);
      throw new StoreException(
          "disk tier: no direct memory to stage a block of "
              + length
              + " bytes; raise -XX:MaxDirectMemorySize or write fewer blocks at once",
          e);
    }
    openWriters.incrementAndGet();
    return new Writer(key, (int) length, staging);
  }

  @Override
  public CompletableFuture<BlockLease> read(StoreKey key) {
    Objects.requireNonNull(key, "key");
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    return async(() -> readNow(key), () -> {});
  }

  @Override
  public boolean contains(StoreKey key) {
    Objects.requireNonNull(key, "key");
    lifecycle.readLock().lock();
    try {
      checkOpen();
      return BlockMeta.decode(store.db.get(store.meta, key.toBytes())) != null;
    } catch (RocksDBException e) {
      // contains() has no error channel: a block the medium cannot answer for is not held.
      LOG.log(Level.WARNING, "disk tier: could not look up " + key + ": " + e.getMessage());
      return false;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Always false: a disk lease holds its own copy of the bytes, so removal frees space at once. */
  @Override
  public boolean leased(StoreKey key) {
    return false;
  }

  @Override
  public void forEachBlock(BlockVisitor visitor) throws StoreException {
    Objects.requireNonNull(visitor, "visitor");
    lifecycle.readLock().lock();
    try {
      checkOpen();
      walk(visitor);
    } catch (RocksDBException e) {
      throw failure("could not walk the block records", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private void walk(BlockVisitor visitor) throws RocksDBException {
    try (ReadOptions ro = new ReadOptions().setFillCache(false);
        RocksIterator it = store.db.newIterator(store.meta, ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        StoreKey key = StoreKey.fromBytes(it.key());
        BlockMeta m = BlockMeta.decode(it.value());
        if (key != null && m != null) {
          visitor.visit(key, m.length(), m.crc32c());
        }
      }
      it.status();
    }
  }

  @Override
  public boolean remove(StoreKey key) throws StoreException {
    Objects.requireNonNull(key, "key");
    lifecycle.readLock().lock();
    try {
      checkOpen();
      byte[] k = key.toBytes();
      ReentrantLock stripe = stripe(key);
      stripe.lock();
      try {
        byte[] value = store.db.get(store.meta, k);
        if (value == null) {
          return false;
        }
        delete(k, BlockMeta.decode(value));
        return true;
      } finally {
        stripe.unlock();
      }
    } catch (RocksDBException e) {
      throw failure("could not remove block " + key, e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Flushes what is committed, then closes every RocksDB object in a fixed order (column families,
   * database, options), each even if another fails. Outstanding leases stay valid (they hold their
   * own memory); open writers fail their commit.
   *
   * @throws StoreException if the final flush or a close failed (everything was still closed)
   */
  @Override
  public void close() throws StoreException {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      StoreException failure = null;
      try {
        flushNow();
      } catch (RocksDBException e) {
        failure = failure("could not flush blocks to disk at close (unflushed blocks are lost)", e);
      }
      try {
        store.close();
      } catch (RocksDBException e) {
        StoreException s = failure("could not close RocksDB cleanly", e);
        if (failure == null) {
          failure = s;
        } else {
          failure.addSuppressed(s);
        }
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  // ---- reads --------------------------------------------------------------------------------

  private BlockLease readNow(StoreKey key) throws StoreException {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      byte[] k = key.toBytes();
      Snapshot snapshot = store.db.getSnapshot();
      // The bytes skip RocksDB's checksums: readData checks their CRC32C, which catches what
      // RocksDB's blob checksum would (in software here, at about the disk's speed), and a damaged
      // index entry reads as a miss, wrong bytes or RocksDB's Corruption, each dropped.
      try (ReadOptions at = new ReadOptions().setSnapshot(snapshot);
          ReadOptions unverified =
              new ReadOptions().setSnapshot(snapshot).setVerifyChecksums(false)) {
        BlockMeta meta;
        try {
          byte[] value = store.db.get(store.meta, at, k);
          if (value == null) {
            return null;
          }
          meta = BlockMeta.decode(value);
        } catch (RocksDBException e) {
          if (!isCorruption(e)) {
            throw e;
          }
          meta = null;
        }
        if (meta == null) {
          drop(key, k, null, "its meta record is unreadable");
          return null;
        }
        return readData(key, k, meta, unverified);
      } finally {
        store.db.releaseSnapshot(snapshot);
      }
    } catch (RocksDBException e) {
      throw failure("could not read block " + key, e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Reads the bytes into direct memory and verifies them; null (and dropped) if they fail. */
  private BlockLease readData(StoreKey key, byte[] k, BlockMeta meta, ReadOptions at)
      throws RocksDBException, StoreException {
    int length = (int) meta.length();
    ByteBuf buf = directBuffer(length, "read a block of");
    ByteBuf keyBuf = directKey(k);
    boolean leased = false;
    try {
      int n;
      try {
        n = store.db.get(store.blocks, at, keyBuf.nioBuffer(), buf.nioBuffer(0, length));
      } catch (RocksDBException e) {
        if (!isCorruption(e)) {
          throw e;
        }
        drop(key, k, meta, "RocksDB reports corruption: " + e.getMessage());
        return null;
      }
      if (n == RocksDB.NOT_FOUND) {
        drop(key, k, meta, "its bytes are missing");
        return null;
      }
      if (n != length) {
        drop(key, k, meta, n + " bytes stored, " + length + " expected");
        return null;
      }
      int crc = crc32c(buf.nioBuffer(0, length));
      if (crc != meta.crc32c()) {
        drop(key, k, meta, "CRC32C mismatch");
        return null;
      }
      buf.writerIndex(length);
      leases.incrementAndGet();
      leased = true;
      return new DiskLease(key, meta, buf, leases::decrementAndGet);
    } finally {
      keyBuf.release();
      if (!leased) {
        buf.release();
      }
    }
  }

  /**
   * Counts a block that failed verification and deletes it, if it is still the commit that was read
   * (a newer commit of the key stays).
   */
  private void drop(StoreKey key, byte[] k, BlockMeta seen, String why) {
    checksumFailures.incrementAndGet();
    LOG.log(
        Level.WARNING,
        "disk tier: block " + key + " failed verification (" + why + "); dropped, read as a miss");
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      BlockMeta now;
      try {
        now = BlockMeta.decode(store.db.get(store.meta, k));
      } catch (RocksDBException e) {
        now = null;
      }
      boolean sameCommit = seen == null ? now == null : seen.equals(now);
      if (sameCommit) {
        delete(k, now);
      }
    } catch (RocksDBException e) {
      LOG.log(
          Level.WARNING,
          "disk tier: could not delete corrupt block " + key + ": " + e.getMessage());
    } finally {
      stripe.unlock();
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  private boolean commitNow(StoreKey key, ByteBuf staging, int length, int crc32c)
      throws StoreException {
    boolean stored = false;
    try {
      lifecycle.readLock().lock();
      try {
        checkOpen();
        int actual = crc32c(staging.nioBuffer(0, length));
        if (actual != crc32c) {
          throw new IllegalArgumentException(
              "block "
                  + key
                  + ": the CRC32C given at commit ("
                  + Integer.toHexString(crc32c)
                  + ") does not match the "
                  + length
                  + " bytes written ("
                  + Integer.toHexString(actual)
                  + "); not stored: were all bytes written, and is the checksum over them?");
        }
        byte[] k = key.toBytes();
        ReentrantLock stripe = stripe(key);
        stripe.lock();
        try {
          byte[] existing;
          try {
            existing = store.db.get(store.meta, k);
          } catch (RocksDBException e) {
            if (!isCorruption(e)) {
              throw e;
            }
            existing = null; // unreadable: the new commit shadows it
          }
          if (BlockMeta.decode(existing) != null) {
            return false; // first writer wins
          }
          BlockMeta meta = new BlockMeta(length, crc32c, generation.incrementAndGet());
          ByteBuf keyBuf = directKey(k);
          try (WriteBatch batch = new WriteBatch()) {
            batch.put(store.blocks, keyBuf.nioBuffer(), staging.nioBuffer(0, length));
            batch.put(store.meta, k, meta.encode());
            write(batch);
          } finally {
            keyBuf.release();
          }
          committedBytes.addAndGet(length);
          blockCount.incrementAndGet();
          stored = true;
          return true;
        } finally {
          stripe.unlock();
        }
      } catch (RocksDBException e) {
        throw failure(
            "could not store block " + key + " (not stored; blocks already stored stay readable)",
            e);
      } finally {
        lifecycle.readLock().unlock();
      }
    } finally {
      if (!stored) {
        used.addAndGet(-length);
      }
      staging.release();
      openWriters.decrementAndGet();
    }
  }

  /** Deletes a block's bytes and meta record and gives back its space; caller holds its stripe. */
  private void delete(byte[] k, BlockMeta meta) throws RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      batch.delete(store.blocks, k);
      batch.delete(store.meta, k);
      write(batch);
    }
    if (meta != null) {
      used.addAndGet(-meta.length());
      committedBytes.addAndGet(-meta.length());
      blockCount.decrementAndGet();
      if (removedSinceCompaction.addAndGet(meta.length()) >= compactAfterRemoving) {
        queueCompaction();
      }
    }
  }

  /** Compacts on the executor, once at a time, after {@link Builder#compactAfterRemoving}. */
  private void queueCompaction() {
    if (!compactionQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(
          () -> {
            try {
              removedSinceCompaction.set(0); // removals from now on count towards the next one
              compact();
              autoCompactions.incrementAndGet();
              LOG.log(
                  System.Logger.Level.DEBUG,
                  () -> "disk tier: compacted after removals, " + usedBytes() + " bytes in use");
            } catch (StoreException | RuntimeException e) {
              if (!closed) {
                LOG.log(
                    System.Logger.Level.WARNING, "disk tier: compaction after removals failed", e);
              }
            } finally {
              compactionQueued.set(false);
            }
          });
    } catch (RejectedExecutionException e) {
      compactionQueued.set(false); // shutting down: the next removal tries again
    }
  }

  /**
   * Writes a batch, retrying while RocksDB stalls writes (memtables full while flushes catch up)
   * until the write timeout; then, or on any other failure, throws.
   */
  private void write(WriteBatch batch) throws RocksDBException {
    long deadline = nanoClock.getAsLong() + writeTimeoutNanos;
    long backoff = FIRST_BACKOFF_NANOS;
    for (; ; ) {
      try {
        store.db.write(store.writeOptions, batch);
        return;
      } catch (RocksDBException e) {
        boolean stalled = isStall(e);
        if (!stalled || nanoClock.getAsLong() - deadline >= 0) {
          throw stalled
              ? new RocksDBException(
                  "writes stalled for over "
                      + writeTimeoutMillis()
                      + " ms: flushes are behind or the disk is full ("
                      + e.getMessage()
                      + ")",
                  e.getStatus())
              : e;
        }
        backoff = pause(backoff);
      }
    }
  }

  /**
   * Flushes the memtables and waits, up to the write timeout, for them to reach the disk; fails at
   * once if a background flush fails meanwhile.
   */
  private void flushNow() throws RocksDBException {
    long deadline = nanoClock.getAsLong() + writeTimeoutNanos;
    long errorsBefore = store.backgroundErrors();
    long backoff = FIRST_BACKOFF_NANOS;
    for (; ; ) {
      try {
        store.requestFlush();
        break;
      } catch (RocksDBException e) {
        if (!isStall(e) || nanoClock.getAsLong() - deadline >= 0) {
          throw e;
        }
        backoff = pause(backoff);
      }
    }
    while (store.unflushedMemtables() > 0) {
      if (store.backgroundErrors() > errorsBefore) {
        throw new RocksDBException(
            "a background flush failed (disk full or failing: RocksDB's LOG file in the directory"
                + " says which)");
      }
      if (nanoClock.getAsLong() - deadline >= 0) {
        throw new RocksDBException("the flush did not finish in " + writeTimeoutMillis() + " ms");
      }
      backoff = pause(backoff);
    }
  }

  private long writeTimeoutMillis() {
    return Duration.ofNanos(writeTimeoutNanos).toMillis();
  }

  /** Parks for {@code backoff} nanoseconds; returns the next, doubled up to 50 ms. */
  private static long pause(long backoff) {
    LockSupport.parkNanos(backoff);
    return Math.min(backoff * 2, 50_000_000L);
  }

  /** RocksDB refused for now (write stall, writes stopped), not for good. */
  private static boolean isStall(RocksDBException e) {
    Status s = e.getStatus();
    return s != null
        && (s.getCode() == Status.Code.Incomplete
            || s.getCode() == Status.Code.TryAgain
            || s.getCode() == Status.Code.Busy);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** An I/O step run on the executor. */
  private interface IoTask<T> {
    T run() throws StoreException;
  }

  /** Runs {@code task} on the executor; {@code onReject} cleans up if the executor refuses it. */
  private <T> CompletableFuture<T> async(IoTask<T> task, Runnable onReject) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      executor.execute(
          () -> {
            try {
              f.complete(task.run());
            } catch (Throwable t) {
              f.completeExceptionally(t);
            }
          });
    } catch (RejectedExecutionException e) {
      onReject.run();
      f.completeExceptionally(
          new StoreException(
              "disk tier at "
                  + directory
                  + ": the I/O executor rejected the task; is it shut down or its queue full?",
              e));
    }
    return f;
  }

  private ReentrantLock stripe(StoreKey key) {
    int h = key.hashCode();
    return stripes[(h ^ (h >>> 16)) & (STRIPES - 1)];
  }

  private ByteBuf directKey(byte[] k) throws StoreException {
    ByteBuf b = directBuffer(k.length, "encode a key of");
    b.writeBytes(k);
    return b;
  }

  private ByteBuf directBuffer(int length, String what) throws StoreException {
    try {
      return allocator.directBuffer(length, length);
    } catch (OutOfMemoryError e) {
      throw new StoreException(
          "disk tier: no direct memory to "
              + what
              + " "
              + length
              + " bytes; raise -XX:MaxDirectMemorySize",
          e);
    }
  }

  private static int crc32c(ByteBuffer bytes) {
    CRC32C c = new CRC32C();
    c.update(bytes);
    return (int) c.getValue();
  }

  private static boolean isCorruption(RocksDBException e) {
    return DiskOpener.isCorruption(e);
  }

  private StoreException failure(String what, RocksDBException e) {
    return new StoreException(
        "disk tier at "
            + directory
            + ": "
            + what
            + ": "
            + e.getMessage()
            + "; check that the disk is healthy, writable and has free space",
        e);
  }

  private void checkOpen() {
    if (closed) {
      throw closedException();
    }
  }

  private IllegalStateException closedException() {
    return new IllegalStateException("disk tier at " + directory + " is closed");
  }

  /** Counts of the meta family, for invariant checks: scanned now, not the running counters. */
  DiskOpener.Scan recount() throws StoreException {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      return DiskOpener.scan(store, new ArrayList<>());
    } catch (RocksDBException e) {
      throw failure("could not scan block records", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Bytes of committed blocks by the running counters (without reservations). */
  long committedBytes() {
    return committedBytes.get();
  }

  /** Writers reserved and not yet committed or closed. */
  long openWriters() {
    return openWriters.get();
  }

  // ---- leases and writers -------------------------------------------------------------------

  private final class Writer extends AbstractBlockWriter {
    private final int length;
    private ByteBuf staging; // null once committed or aborted

    Writer(StoreKey key, int length, ByteBuf staging) {
      super(key, length);
      this.length = length;
      this.staging = staging;
    }

    @Override
    protected boolean isOpen() {
      return staging != null;
    }

    @Override
    protected CompletableFuture<Void> writeChecked(long offset, ByteBuf src, int n) {
      staging.setBytes((int) offset, src, src.readerIndex(), n);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> commit(int crc32c) {
      if (staging == null) {
        return notOpen();
      }
      ByteBuf owned = staging;
      staging = null; // the commit task owns the staging buffer and the reservation now
      return async(() -> commitNow(key(), owned, length, crc32c), () -> abort(owned));
    }

    @Override
    public void close() {
      if (staging != null) {
        abort(staging);
        staging = null;
      }
    }

    private void abort(ByteBuf owned) {
      owned.release();
      used.addAndGet(-length);
      openWriters.decrementAndGet();
    }
  }

  /** Builds a {@link DiskTier}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private Path directory;
    private long capacityBytes;
    private Executor executor;
    private long compactAfterRemoving;
    private ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
    private long writeBufferBytes = DEFAULT_WRITE_BUFFER_BYTES;
    private boolean preferDirectIo = true;
    private Duration writeTimeout = Duration.ofSeconds(10);
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /**
     * The data directory, created if absent; it must be empty or hold a disk tier. Required (the
     * server uses {@link #DEFAULT_DIRECTORY} unless configured).
     */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * Logical bytes of blocks to hold at most (the sum of their lengths; the files take somewhat
     * more). Required.
     */
    public Builder capacityBytes(long capacityBytes) {
      if (capacityBytes < 1) {
        throw new IllegalArgumentException("disk capacity must be positive, got " + capacityBytes);
      }
      this.capacityBytes = capacityBytes;
      return this;
    }

    /**
     * Runs reads and commits (blocking disk I/O); the caller owns its threads and shuts it down
     * after closing the tier. Required.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Compacts by itself (on the executor) once the blocks removed since the last compaction add up
     * to this many bytes, giving their disk space back; default (0) a quarter of the capacity.
     */
    public Builder compactAfterRemoving(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("compactAfterRemoving must be >= 0, got " + bytes);
      }
      this.compactAfterRemoving = bytes;
      return this;
    }

    /**
     * Allocates the direct buffers of writes and leases; default {@link ByteBufAllocator#DEFAULT}.
     */
    public Builder allocator(ByteBufAllocator allocator) {
      this.allocator = Objects.requireNonNull(allocator, "allocator");
      return this;
    }

    /**
     * Memtable size, from 1 MiB to 1 GiB; default 64 MiB. Blocks are durable once flushed: a crash
     * loses the memtables not yet flushed, up to four of them (which is also their memory).
     */
    public Builder writeBufferBytes(long writeBufferBytes) {
      if (writeBufferBytes < (1 << 20) || writeBufferBytes > (1L << 30)) {
        throw new IllegalArgumentException(
            "write buffer must be from 1 MiB to 1 GiB, got " + writeBufferBytes);
      }
      this.writeBufferBytes = writeBufferBytes;
      return this;
    }

    /**
     * Whether to use direct I/O where the filesystem allows it (default true); false forces
     * buffered I/O through the page cache.
     */
    public Builder preferDirectIo(boolean preferDirectIo) {
      this.preferDirectIo = preferDirectIo;
      return this;
    }

    /**
     * How long a commit or removal waits out a RocksDB write stall, and {@link DiskTier#flush()} or
     * {@link DiskTier#close()} its flush, before failing; default 10 s. Zero fails at the first
     * stall.
     */
    public Builder writeTimeout(Duration writeTimeout) {
      Objects.requireNonNull(writeTimeout, "writeTimeout");
      if (writeTimeout.isNegative()) {
        throw new IllegalArgumentException("write timeout must not be negative: " + writeTimeout);
      }
      this.writeTimeout = writeTimeout;
      return this;
    }

    /**
     * The clock that write timeouts are measured with, in nanoseconds; default System::nanoTime.
     */
    public Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * Opens (or creates) the store and counts what it holds.
     *
     * @throws IllegalStateException if the directory, capacity or executor is missing
     * @throws StoreException if the directory or RocksDB cannot be used
     */
    public DiskTier build() throws StoreException {
      List<String> missing = new ArrayList<>();
      if (directory == null) {
        missing.add("directory");
      }
      if (capacityBytes == 0) {
        missing.add("capacityBytes");
      }
      if (executor == null) {
        missing.add("executor");
      }
      if (!missing.isEmpty()) {
        throw new IllegalStateException("disk tier needs " + String.join(", ", missing));
      }
      return new DiskTier(this, DiskOpener.open(directory, preferDirectIo, writeBufferBytes));
    }
  }
}
