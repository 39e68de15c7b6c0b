package io.kvhoard.server.store.directory;

import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * The block directory: every block the store holds, by {@link StoreKey}, with the tiers holding it,
 * its size, CRC32C, parent, token count, pin and last access ({@link DirectoryEntry}). A Chronicle
 * Map: off the Java heap (millions of entries cost the collector nothing) and, when persisted,
 * memory-mapped from a file, so a restart, even after {@code kill -9}, finds the entries of the
 * blocks that survive it (the store then drops what the tiers no longer hold and adds what they
 * hold that it lacks; the tiers are the truth, the directory their index).
 *
 * <p>Keys are the 48 bytes namespace ‖ block key; values the fixed 64-byte encoding of {@link
 * DirectoryEntry}. Fixed sizes let Chronicle Map lay entries out without a size prefix and with no
 * generated code.
 *
 * <p>Thread-safe: every method may be called concurrently; {@link #update} is atomic per key (it
 * runs under the key's segment lock, so its function must be short and must not touch the map).
 * Errors of the map never leave this class: a full map is a {@link StoreException} that says so.
 */
public final class BlockDirectory implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(BlockDirectory.class.getName());

  private final ChronicleMap<byte[], byte[]> map;
  private final Path file;
  private final long entries;
  private final boolean recovered;
  private final FileChannel lock; // held while open: one process per directory file

  private BlockDirectory(
      ChronicleMap<byte[], byte[]> map, Path file, long entries, boolean rec, FileChannel lock) {
    this.map = map;
    this.file = file;
    this.entries = entries;
    this.recovered = rec;
    this.lock = lock;
  }

  /** A directory for about {@code entries} blocks, in memory only (lost on close). */
  public static BlockDirectory inMemory(long entries) throws StoreException {
    try {
      return new BlockDirectory(builder(entries).create(), null, entries, false, null);
    } catch (RuntimeException e) {
      throw new StoreException("block directory: could not create: " + e.getMessage(), e);
    }
  }

  /**
   * A directory for about {@code entries} blocks persisted in {@code file}: recovered if it exists
   * (safe after a crash; the entry count it was created with is kept), created otherwise. A file
   * that cannot be recovered is moved aside to {@code file.corrupt} and a new directory started: a
   * cache may forget, so the store rebuilds what it can from its persistent tiers.
   */
  public static BlockDirectory persisted(Path file, long entries) throws StoreException {
    Objects.requireNonNull(file, "file");
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new StoreException(
          "block directory: cannot create the directory of " + file + ": " + e.getMessage(), e);
    }
    FileChannel lock = lock(file);
    try {
      return open(file, entries, lock);
    } catch (StoreException | RuntimeException e) {
      closeQuietly(lock);
      throw e;
    }
  }

  private static BlockDirectory open(Path file, long entries, FileChannel lock)
      throws StoreException {
    Path clean = sibling(file, ".clean");
    boolean wasClean = Files.exists(clean);
    try {
      Files.deleteIfExists(clean);
    } catch (IOException e) {
      throw new StoreException("block directory: cannot remove " + clean + ": " + e, e);
    }
    if (Files.exists(file)) {
      try {
        if (!looksLikeAChronicleMap(file)) {
          throw new IOException("not a Chronicle Map file (no Chronicle Map header)");
        }
        // After a clean close the file is opened as it is; after a crash (no marker) Chronicle's
        // recovery repairs segment locks and counts a killed process left behind. This process
        // holds the lock file, so the recovery has the exclusive access it needs.
        ChronicleMap<byte[], byte[]> m =
            wasClean
                ? builder(entries).createPersistedTo(file.toFile())
                : builder(entries).recoverPersistedTo(file.toFile(), false);
        LOG.log(
            Level.INFO,
            "block directory "
                + file
                + ": "
                + (wasClean ? "opened " : "recovered after an unclean stop, ")
                + m.longSize()
                + " entries");
        return new BlockDirectory(m, file, entries, true, lock);
      } catch (IOException | RuntimeException e) {
        Path aside = sibling(file, ".corrupt");
        LOG.log(
            Level.WARNING,
            "block directory "
                + file
                + " cannot be recovered ("
                + e
                + "); moved to "
                + aside
                + " and starting empty");
        try {
          Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException moveFailed) {
          throw new StoreException(
              "block directory: " + file + " is unreadable and cannot be moved aside", moveFailed);
        }
      }
    }
    try {
      return new BlockDirectory(
          builder(entries).createPersistedTo(file.toFile()), file, entries, false, lock);
    } catch (IOException | RuntimeException e) {
      throw new StoreException(
          "block directory: could not create " + file + ": " + e.getMessage(), e);
    }
  }

  private static FileChannel lock(Path file) throws StoreException {
    Path lockFile = sibling(file, ".lock");
    FileChannel ch = null;
    try {
      ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (ch.tryLock() == null) {
        throw new StoreException(
            "block directory " + file + " is in use by another process (" + lockFile + ")");
      }
      return ch;
    } catch (IOException | OverlappingFileLockException e) {
      closeQuietly(ch);
      throw new StoreException(
          "block directory " + file + " is in use (could not lock " + lockFile + "): " + e, e);
    } catch (StoreException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static Path sibling(Path file, String suffix) {
    return file.resolveSibling(file.getFileName() + suffix);
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing a lock file: nothing to save
      }
    }
  }

  /**
   * Whether the file starts with Chronicle Map's self-describing header (8 bytes, a 4-byte length,
   * then the map's class name). Checked first because Chronicle's recovery of a file that is not
   * one waits a minute before it gives up.
   */
  private static boolean looksLikeAChronicleMap(Path file) throws IOException {
    byte[] head = new byte[HEADER_MARK.length + 12];
    try (var in = Files.newInputStream(file)) {
      if (in.readNBytes(head, 0, head.length) < head.length) {
        return false;
      }
    }
    return java.util.Arrays.equals(head, 12, head.length, HEADER_MARK, 0, HEADER_MARK.length);
  }

  private static final byte[] HEADER_MARK =
      "!net.openhft.chronicle.map.".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static ChronicleMapBuilder<byte[], byte[]> builder(long entries) {
    if (entries < 1) {
      throw new IllegalArgumentException("directory entries must be positive, got " + entries);
    }
    return ChronicleMap.of(byte[].class, byte[].class)
        .name("kvhoard-block-directory")
        .constantKeySizeBySample(new byte[StoreKey.BYTES])
        .constantValueSizeBySample(new byte[DirectoryEntry.BYTES])
        .entries(Math.max(entries, 1024))
        // Headroom beyond the planned count before a put fails (the store also evicts).
        .maxBloatFactor(2.0)
        // The server closes the map itself, after the store stops writing to it; Chronicle's own
        // exit hook would close it first, under the store's feet, and skip the clean-close mark.
        .skipCloseOnExitHook(true);
  }

  /** The entry of {@code key}, or {@code null}. */
  public DirectoryEntry get(StoreKey key) {
    return DirectoryEntry.decode(map.get(encode(key)));
  }

  public boolean containsKey(StoreKey key) {
    return map.containsKey(encode(key));
  }

  /**
   * Applies {@code fn} to the entry of {@code key} ({@code null} if absent) atomically and stores
   * its result; a {@code null} result removes the entry.
   *
   * @return the new entry, or {@code null} if removed or absent
   * @throws StoreException if the directory is full
   */
  public DirectoryEntry update(StoreKey key, UnaryOperator<DirectoryEntry> fn)
      throws StoreException {
    Objects.requireNonNull(fn, "fn");
    DirectoryEntry[] result = new DirectoryEntry[1];
    try {
      map.compute(
          encode(key),
          (k, old) -> {
            DirectoryEntry next = fn.apply(DirectoryEntry.decode(old));
            result[0] = next;
            if (next == null) {
              return null;
            }
            byte[] out =
                old != null && old.length == DirectoryEntry.BYTES
                    ? old
                    : new byte[DirectoryEntry.BYTES];
            next.encode(out);
            return out;
          });
    } catch (IllegalStateException e) {
      throw full(e);
    }
    return result[0];
  }

  /**
   * Stores {@code entry} under {@code key}, replacing any.
   *
   * @throws StoreException if the directory is full
   */
  public void put(StoreKey key, DirectoryEntry entry) throws StoreException {
    byte[] out = new byte[DirectoryEntry.BYTES];
    entry.encode(out);
    try {
      map.put(encode(key), out);
    } catch (IllegalStateException e) {
      throw full(e);
    }
  }

  /** Removes the entry of {@code key}; returns it, or {@code null} if there was none. */
  public DirectoryEntry remove(StoreKey key) {
    return DirectoryEntry.decode(map.remove(encode(key)));
  }

  /**
   * Visits every entry (weakly consistent with concurrent changes). Entries this version cannot
   * read are removed.
   */
  public void forEach(BiConsumer<StoreKey, DirectoryEntry> action) {
    Objects.requireNonNull(action, "action");
    map.forEachEntry(
        e -> {
          byte[] k = e.key().get();
          DirectoryEntry v = DirectoryEntry.decode(e.value().get());
          if (v == null || k.length != StoreKey.BYTES) {
            e.context().remove(e);
          } else {
            action.accept(StoreKey.fromBytes(k), v);
          }
        });
  }

  /** Entries held now. */
  public long size() {
    return map.longSize();
  }

  /** The number of entries the directory was sized for. */
  public long plannedEntries() {
    return entries;
  }

  /** Bytes of memory (or file) the map takes off the heap. */
  public long offHeapBytes() {
    return map.offHeapMemoryUsed();
  }

  /** The file it is persisted in, or {@code null} if in memory only. */
  public Path file() {
    return file;
  }

  /** Whether it was recovered from an existing file at open. */
  public boolean recovered() {
    return recovered;
  }

  /** Removes every entry. */
  public void clear() {
    map.clear();
  }

  /**
   * Closes the map (persisted entries stay in the file, marked cleanly closed) and releases the
   * file's lock. Idempotent.
   */
  @Override
  public void close() {
    if (map.isClosed()) {
      return;
    }
    map.close();
    if (file != null) {
      try {
        Files.createFile(sibling(file, ".clean"));
      } catch (IOException e) {
        LOG.log(Level.WARNING, "block directory " + file + ": could not mark a clean close: " + e);
      }
      closeQuietly(lock);
    }
  }

  private StoreException full(IllegalStateException e) {
    return new StoreException(
        "block directory is full ("
            + map.longSize()
            + " entries, planned for "
            + entries
            + "); plan for more blocks (the directory-entries setting) or give the tiers less"
            + " capacity: "
            + e.getMessage(),
        e);
  }

  private static byte[] encode(StoreKey key) {
    return Objects.requireNonNull(key, "key").toBytes();
  }
}
