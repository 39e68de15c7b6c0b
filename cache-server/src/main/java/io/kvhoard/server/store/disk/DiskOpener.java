package io.kvhoard.server.store.disk;

import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;

/**
 * A disk tier's start-up: claims the directory (a marker file with the format version; a directory
 * holding anything else is refused), opens RocksDB (falling back to buffered I/O where direct I/O
 * is refused), rebuilds the block count and used bytes from the meta family alone, deletes
 * malformed meta records, and discards a store that is corrupt as a whole (an unreadable manifest
 * or meta family) so that it starts empty: a cache may forget, it must not refuse to start.
 *
 * <p>Not thread-safe; used once per {@link DiskTier}, before it exists.
 */
final class DiskOpener {
  /** The file that marks a directory as a disk tier's, with its format version. */
  static final String MARKER_FILE = "KVHOARD-DISK-TIER";

  private static final String FORMAT = "kvhoard disk tier format 1\n";
  private static final System.Logger LOG = System.getLogger(DiskTier.class.getName());

  private DiskOpener() {}

  /** What opening found. */
  record Opened(DiskDatabase store, Scan scan, boolean discarded) {}

  /**
   * Claims {@code dir}, opens the database (with direct I/O if asked and the filesystem allows it)
   * and counts what it holds; discards a store that is corrupt as a whole and starts it empty.
   */
  static Opened open(Path dir, boolean preferDirectIo, long writeBufferBytes)
      throws StoreException {
    try {
      RocksDB.loadLibrary();
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      throw new StoreException(
          "disk tier: could not load RocksDB's native library (the linux64 build needs x86-64 or"
              + " aarch64 Linux with glibc); run on such a machine or disable the disk tier",
          e);
    }
    claimDirectory(dir);
    boolean direct = preferDirectIo && DirectIo.supported(dir);
    try {
      Opened o = openAndScan(dir, direct, writeBufferBytes, false);
      if (o != null) {
        return o;
      }
      // The store is corrupt as a whole: a cache may forget, so start empty rather than not at
      // all. The marker file proved the directory is ours.
      LOG.log(
          Level.WARNING,
          "disk tier at " + dir + ": the store is corrupt beyond single blocks; discarding it");
      discard(dir);
      o = openAndScan(dir, direct, writeBufferBytes, true);
      return new Opened(o.store, o.scan, true);
    } catch (RocksDBException e) {
      throw new StoreException(
          "disk tier: could not open RocksDB in "
              + dir
              + ": "
              + e.getMessage()
              + "; is another process using the directory, or the disk failing?",
          e);
    }
  }

  /**
   * Opens and scans; null if the store is corrupt as a whole (only when {@code mustWork} is false).
   */
  private static Opened openAndScan(
      Path dir, boolean direct, long writeBufferBytes, boolean mustWork) throws RocksDBException {
    DiskDatabase store;
    try {
      store = DiskDatabase.open(dir, direct, writeBufferBytes);
    } catch (RocksDBException e) {
      if (direct && isDirectIoRefusal(e)) {
        LOG.log(
            Level.INFO,
            "disk tier at " + dir + ": RocksDB refused direct I/O (" + e.getMessage() + ")");
        return openAndScan(dir, false, writeBufferBytes, mustWork);
      }
      if (isCorruption(e) && !mustWork) {
        return null;
      }
      throw e;
    }
    try {
      List<byte[]> malformed = new ArrayList<>();
      Scan scan = scan(store, malformed);
      for (byte[] k : malformed) {
        try (WriteBatch batch = new WriteBatch()) {
          batch.delete(store.blocks, k);
          batch.delete(store.meta, k);
          store.db.write(store.writeOptions, batch);
        }
      }
      LOG.log(
          Level.INFO,
          "disk tier at "
              + dir
              + ": "
              + scan.count()
              + " blocks, "
              + scan.bytes()
              + " bytes; "
              + (store.directIo ? "direct I/O" : "buffered I/O (page cache)")
              + (scan.dropped() > 0 ? "; dropped " + scan.dropped() + " malformed records" : ""));
      return new Opened(store, scan, false);
    } catch (RocksDBException | RuntimeException e) {
      try {
        store.close();
      } catch (RocksDBException closing) {
        e.addSuppressed(closing);
      }
      if (e instanceof RocksDBException r && isCorruption(r) && !mustWork) {
        return null;
      }
      throw e;
    }
  }

  private static boolean isDirectIoRefusal(RocksDBException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    return m.contains("direct i/o") || m.contains("direct io") || m.contains("o_direct");
  }

  /**
   * Makes sure {@code dir} is a disk tier's: creates it, and writes the marker file if it is empty;
   * refuses a directory that holds anything else.
   */
  private static void claimDirectory(Path dir) throws StoreException {
    try {
      Files.createDirectories(dir);
      Path marker = dir.resolve(MARKER_FILE);
      if (Files.exists(marker)) {
        String found = Files.readString(marker, StandardCharsets.UTF_8);
        if (!found.equals(FORMAT)) {
          throw new StoreException(
              "disk tier: "
                  + dir
                  + " holds a disk tier of another format ("
                  + found.strip()
                  + "); point the disk tier at another directory or delete this one");
        }
        return;
      }
      boolean empty;
      try (Stream<Path> entries = Files.list(dir)) {
        empty = entries.allMatch(p -> p.getFileName().toString().equals(DirectIo.PROBE_FILE));
      }
      if (!empty) {
        throw new StoreException(
            "disk tier: "
                + dir
                + " is neither empty nor a disk tier's directory (no "
                + MARKER_FILE
                + " file); give the disk tier a directory of its own");
      }
      Files.writeString(
          marker,
          FORMAT,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE,
          StandardOpenOption.SYNC);
    } catch (IOException | UncheckedIOException e) {
      throw new StoreException(
          "disk tier: cannot use " + dir + " (" + e + "); check that it is a writable directory",
          e);
    }
  }

  /** Deletes every file of the store but the marker. */
  private static void discard(Path dir) throws StoreException {
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        if (!p.getFileName().toString().equals(MARKER_FILE) && Files.isRegularFile(p)) {
          Files.delete(p);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      throw new StoreException(
          "disk tier: could not discard the corrupt store in "
              + dir
              + " ("
              + e
              + "); delete the directory by hand",
          e);
    }
  }

  /** What a scan of the meta family found. */
  record Scan(long count, long bytes, long maxGeneration, long dropped) {}

  /**
   * Sums the meta family; malformed records (and keys) are collected in {@code malformed}.
   *
   * @throws RocksDBException with status Corruption if the family cannot be read through
   */
  static Scan scan(DiskDatabase store, List<byte[]> malformed) throws RocksDBException {
    long count = 0;
    long bytes = 0;
    long maxGeneration = 0;
    try (ReadOptions ro = new ReadOptions().setFillCache(false);
        RocksIterator it = store.db.newIterator(store.meta, ro)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        BlockMeta m = BlockMeta.decode(it.value());
        if (m == null || StoreKey.fromBytes(k) == null) {
          malformed.add(k);
          continue;
        }
        count++;
        bytes += m.length();
        maxGeneration = Math.max(maxGeneration, m.generation());
      }
      it.status();
    }
    return new Scan(count, bytes, maxGeneration, malformed.size());
  }

  static boolean isCorruption(RocksDBException e) {
    Status s = e.getStatus();
    return s != null && s.getCode() == Status.Code.Corruption;
  }
}
