package io.kvhoard.server.store.disk;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksObject;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB objects under one {@link DiskTier}: the database, its column families and every
 * native options object, opened together and closed together in a fixed order.
 *
 * <p>Column families: {@code blocks} holds the block bytes (values of at least {@link
 * DiskTier#MIN_BLOB_BYTES} go to blob files), {@code meta} a {@link BlockMeta} per block, and
 * RocksDB's mandatory {@code default} family stays empty. Not thread-safe to open or close; the
 * handles are used concurrently by {@link DiskTier}, which guarantees none is used after {@link
 * #close()}.
 */
final class DiskDatabase implements AutoCloseable {
  static final byte[] BLOCKS = "blocks".getBytes(StandardCharsets.US_ASCII);
  static final byte[] META = "meta".getBytes(StandardCharsets.US_ASCII);

  private static final long BLOCK_CACHE_BYTES = 32L << 20;
  private static final long META_WRITE_BUFFER_BYTES = 8L << 20;
  private static final long BLOB_FILE_BYTES = 256L << 20;
  private static final int BACKGROUND_JOBS = 8;

  final RocksDB db;
  final ColumnFamilyHandle blocks;
  final ColumnFamilyHandle meta;
  final WriteOptions writeOptions;
  final FlushOptions flushOptions;
  final boolean directIo;

  /** Handles, then the database, then options: the order {@link #close()} releases them in. */
  private final Deque<AutoCloseable> closeOrder;

  private DiskDatabase(
      RocksDB db,
      ColumnFamilyHandle blocks,
      ColumnFamilyHandle meta,
      WriteOptions writeOptions,
      FlushOptions flushOptions,
      boolean directIo,
      Deque<AutoCloseable> closeOrder) {
    this.db = db;
    this.blocks = blocks;
    this.meta = meta;
    this.writeOptions = writeOptions;
    this.flushOptions = flushOptions;
    this.directIo = directIo;
    this.closeOrder = closeOrder;
  }

  /**
   * Opens (or creates) the database in {@code directory}.
   *
   * @param directIo whether reads, flushes and compactions bypass the page cache
   * @param writeBufferBytes the {@code blocks} memtable size: how much a crash may lose
   */
  static DiskDatabase open(Path directory, boolean directIo, long writeBufferBytes)
      throws RocksDBException {
    // Options are pushed as they are made, so that a failure part-way closes what exists.
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      LRUCache cache = push(opened, new LRUCache(BLOCK_CACHE_BYTES));
      BloomFilter bloom = push(opened, new BloomFilter(10));
      DBOptions dbOptions =
          push(
              opened,
              new DBOptions()
                  .setCreateIfMissing(true)
                  .setCreateMissingColumnFamilies(true)
                  // No WAL (see DiskTier): memtables of both families flush as one unit, so a
                  // crash never leaves a meta record without its bytes.
                  .setAtomicFlush(true)
                  // DiskTier.close() flushes, with a timeout; RocksDB's own flush at shutdown
                  // waits without one (forever, on a full disk).
                  .setAvoidFlushDuringShutdown(true)
                  // A corrupt file must cost the blocks in it, not the whole store: with paranoid
                  // checks an unreadable table fails the open, and corruption met by a
                  // compaction stops all writes.
                  .setParanoidChecks(false)
                  .setUseDirectReads(directIo)
                  .setUseDirectIoForFlushAndCompaction(directIo)
                  // RocksDB gives a quarter of the jobs to flushes: two flushes at a time, so that
                  // one computes its blob checksums while the other writes (the portable
                  // rocksdbjni build computes CRC32C in software, ~1.2 GB/s on one core, which
                  // alone held one flush thread below the disk's speed; see perf/RESULTS.md). The
                  // other six may compact, but the block index is small and its compactions few.
                  .setMaxBackgroundJobs(BACKGROUND_JOBS)
                  .setInfoLogLevel(InfoLogLevel.INFO_LEVEL)
                  .setKeepLogFileNum(4)
                  .setMaxLogFileSize(16L << 20));
      BlockBasedTableConfig table =
          new BlockBasedTableConfig().setBlockCache(cache).setFilterPolicy(bloom);
      ColumnFamilyOptions blockOptions =
          push(
              opened,
              new ColumnFamilyOptions()
                  .setTableFormatConfig(table)
                  .setWriteBufferSize(writeBufferBytes)
                  .setMaxWriteBufferNumber(4)
                  // KV tensors (bf16, fp8) barely compress; compression would only cost CPU.
                  .setCompressionType(CompressionType.NO_COMPRESSION)
                  .setEnableBlobFiles(true)
                  .setMinBlobSize(DiskTier.MIN_BLOB_BYTES)
                  .setBlobFileSize(BLOB_FILE_BYTES)
                  .setBlobCompressionType(CompressionType.NO_COMPRESSION)
                  .setEnableBlobGarbageCollection(true)
                  .setBlobGarbageCollectionAgeCutoff(0.25)
                  .setBlobGarbageCollectionForceThreshold(0.5));
      ColumnFamilyOptions metaOptions =
          push(
              opened,
              new ColumnFamilyOptions()
                  .setTableFormatConfig(table)
                  .setWriteBufferSize(META_WRITE_BUFFER_BYTES)
                  .setMaxWriteBufferNumber(4));
      WriteOptions writeOptions =
          push(
              opened,
              new WriteOptions()
                  .setDisableWAL(true)
                  // A stalled write fails at once instead of blocking the caller's thread for as
                  // long as the stall lasts (forever on a full disk); DiskTier retries it until
                  // its write timeout.
                  .setNoSlowdown(true));
      FlushOptions flushOptions =
          push(opened, new FlushOptions().setWaitForFlush(false).setAllowWriteStall(true));

      List<ColumnFamilyDescriptor> descriptors =
          List.of(
              new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, metaOptions),
              new ColumnFamilyDescriptor(BLOCKS, blockOptions),
              new ColumnFamilyDescriptor(META, metaOptions));
      List<ColumnFamilyHandle> handles = new ArrayList<>(descriptors.size());
      RocksDB db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
      opened.push(db);
      for (ColumnFamilyHandle h : handles) {
        opened.push(h);
      }
      return new DiskDatabase(
          db, handles.get(1), handles.get(2), writeOptions, flushOptions, directIo, opened);
    } catch (RocksDBException | RuntimeException e) {
      closeAll(opened, e);
      throw e;
    }
  }

  /**
   * Starts a flush of both column families' memtables, as one atomic unit, without waiting for it
   * (RocksDB's waiting flush has no timeout, and on a full disk never returns): see {@link
   * #unflushedMemtables()}.
   */
  void requestFlush() throws RocksDBException {
    db.flush(flushOptions, List.of(blocks, meta));
  }

  /**
   * Compacts the {@code blocks} family (keys and blob references only, so it is small): drops
   * removed blocks, whose blob files are deleted once nothing refers to them, and relocates live
   * blobs out of the oldest blob files (blob garbage collection). Waits until done.
   */
  void compactBlocks() throws RocksDBException {
    db.compactRange(blocks);
  }

  /** Memtables switched out for flushing and not yet on disk, in both column families. */
  long unflushedMemtables() throws RocksDBException {
    return db.getLongProperty(blocks, "rocksdb.num-immutable-mem-table")
        + db.getLongProperty(meta, "rocksdb.num-immutable-mem-table");
  }

  /** Background errors (failed flushes and compactions) since the database opened. */
  long backgroundErrors() throws RocksDBException {
    return db.getLongProperty("rocksdb.background-errors");
  }

  /**
   * Closes the column family handles, then the database, then the options, each even if another
   * fails; throws the first failure with the others suppressed.
   */
  @Override
  public void close() throws RocksDBException {
    Exception first = closeAll(closeOrder, null);
    if (first instanceof RocksDBException r) {
      throw r;
    }
    if (first != null) {
      throw new RocksDBException("closing RocksDB failed: " + first);
    }
  }

  private static Exception closeAll(Deque<AutoCloseable> stack, Exception first) {
    while (!stack.isEmpty()) {
      AutoCloseable c = stack.pop();
      try {
        if (c instanceof RocksDB db) {
          db.closeE(); // reports what close() would swallow
        } else {
          c.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else if (first != e) {
          first.addSuppressed(e);
        }
      }
    }
    return first;
  }

  private static <T extends RocksObject> T push(Deque<AutoCloseable> stack, T resource) {
    stack.push(resource);
    return resource;
  }
}
