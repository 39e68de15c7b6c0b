package io.kvhoard.perf.bench;

import com.sun.nio.file.ExtendedOpenOption;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.disk.DiskTier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Disk tier writes and reads of whole blocks against the limit, raw sequential {@link FileChannel}
 * I/O of the same bytes on the same filesystem, in the same run. Goal: ≥ 0.7 × raw for 2 MiB blocks
 * and up (256 KiB for information).
 *
 * <p><b>Writes</b> ({@code op=write}). {@code tier}: reserve, write, commit (the block's CRC32C
 * checked, a RocksDB write to the memtables, no WAL) and, once 512 MiB are live, removal of the
 * oldest block, so the data set stays bounded and blob garbage is collected as in a full cache.
 * Commits complete in memory, but the tier stalls them once four memtables wait for their flush, so
 * after the warm-up the rate is that of the flushes: RocksDB writes each 64 MiB memtable to a new
 * blob file (and a small SST file) and syncs it. {@code baselineFileChannel} does the same to the
 * disk without the tier: the same block bytes written sequentially into new 64 MiB files (one file
 * per flushed memtable), each synced ({@code force(false)}, i.e. fdatasync) when full, and the
 * oldest deleted once 512 MiB are live.
 *
 * <p><b>Reads</b> ({@code op=read}). A 1 GiB data set is written and synced before the measurement;
 * {@code tier} reads it block by block (read, lease, release: the block lands in a direct buffer,
 * its CRC32C checked), {@code baselineFileChannel} reads a file of the same bytes block by block,
 * both cycling through the set in the same order. The set's keys ascend, so the tier's blob files
 * hold the blocks in the order they are read, as the baseline's file does (real prefix keys are
 * random, so a prompt's blocks lie scattered in their blob files; this benchmark leaves that out).
 * Reads come from the device, not the page cache: with direct I/O nothing is cached; where the
 * filesystem refuses direct I/O both sides drop the page cache before each iteration ({@code
 * /proc/sys/vm/drop_caches}, needs root; the benchmark fails rather than measure the cache).
 *
 * <p><b>Direct I/O.</b> The baseline uses whatever the tier chose on the filesystem ({@link
 * DiskTier#directIo()}, asked of a tier opened in the same directory): {@code O_DIRECT} ({@link
 * ExtendedOpenOption#DIRECT}) with buffers and offsets aligned to the filesystem's block size if
 * the tier uses direct I/O there, buffered I/O otherwise. Each fork prints which ({@code # disk:
 * ...}) and, after writes, what the tier's files took on disk.
 *
 * <p>Files go to a fresh directory under {@code java.io.tmpdir} (at most about 2 GiB at a time; the
 * set-up checks for 4 GiB free), deleted at the end of each trial. Point it at the disk to measure
 * with {@code java -Djava.io.tmpdir=/mnt/nvme -jar ...}. Scores are blocks/s; GB/s = blocks/s ×
 * {@code blockBytes}.
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro DiskTier}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DiskTierBenchmark {
  /** Bytes of blocks kept live while writing: older blocks and files are removed. */
  static final long LIVE_BYTES = 512L << 20;

  /** Bytes of the data set that reads cycle through. */
  static final long READ_SET_BYTES = 1L << 30;

  /** The baseline's file size: one flushed memtable of the tier. */
  static final long FILE_BYTES = DiskTier.DEFAULT_WRITE_BUFFER_BYTES;

  /** Free space the set-up insists on before writing anything. */
  static final long FREE_BYTES_NEEDED = 4L << 30;

  /** The measured block size and operation, shared by {@code tier} and its baseline. */
  @State(Scope.Benchmark)
  public static class Config {
    @Param({"262144", "2097152", "33554432"})
    public int blockBytes;

    @Param({"write", "read"})
    public String op;

    /** Where the trial's directory is made; the tests point it elsewhere. */
    Path parent = Path.of(System.getProperty("java.io.tmpdir"));

    long liveBytes = LIVE_BYTES;
    long readSetBytes = READ_SET_BYTES;
    long freeBytesNeeded = FREE_BYTES_NEEDED;

    boolean writes() {
      return switch (op) {
        case "write" -> true;
        case "read" -> false;
        default -> throw new IllegalArgumentException("op is write or read, got " + op);
      };
    }

    /** The block bytes: the same pseudo-random bytes on both sides. */
    byte[] data() {
      byte[] data = new byte[blockBytes];
      new SplittableRandom(3).nextBytes(data);
      return data;
    }

    /** A fresh directory for one trial, after checking the free space. */
    Path newDirectory(String what) throws IOException {
      Files.createDirectories(parent);
      FileStore fs = Files.getFileStore(parent);
      long free = fs.getUsableSpace();
      if (free < freeBytesNeeded) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "%s has %.1f GiB free, the disk benchmark wants %.1f GiB; point"
                    + " -Djava.io.tmpdir at a disk with room",
                parent,
                free / (double) (1L << 30),
                freeBytesNeeded / (double) (1L << 30)));
      }
      return Files.createTempDirectory(parent, "kvhoard-disk-bench-" + what + "-");
    }
  }

  /** One disk tier shared by every benchmark thread, with its I/O threads. */
  @State(Scope.Benchmark)
  public static class TierState {
    Config config;
    Path directory;
    ExecutorService io;
    DiskTier tier;
    ByteBuf src;
    int crc32c;

    /** Writes: the next key's seed, and the live keys, oldest first. */
    final AtomicLong nextKey = new AtomicLong();

    final Queue<StoreKey> live = new ConcurrentLinkedQueue<>();
    final AtomicLong liveCount = new AtomicLong();
    long liveBlocks;

    /** Reads: the data set's keys in the order they were written, and the next to read. */
    StoreKey[] readSet;

    final AtomicLong nextRead = new AtomicLong();

    @Setup(Level.Trial)
    public void open(Config c) throws IOException, StoreException {
      config = c;
      directory = c.newDirectory("tier");
      io =
          Executors.newFixedThreadPool(
              2,
              r -> {
                Thread t = new Thread(r, "disk-bench-io");
                t.setDaemon(true);
                return t;
              });
      byte[] data = c.data();
      src = Unpooled.directBuffer(c.blockBytes).writeBytes(data);
      CRC32C crc = new CRC32C();
      crc.update(data);
      crc32c = (int) crc.getValue();
      liveBlocks = Math.max(2, c.liveBytes / c.blockBytes);
      long setBlocks = Math.max(2, c.readSetBytes / c.blockBytes);
      long capacity = c.blockBytes * Math.max(liveBlocks + 2, setBlocks);
      tier =
          DiskTier.newBuilder()
              .directory(directory.resolve("disk"))
              .capacityBytes(capacity)
              .executor(io)
              .build();
      System.out.println("# disk: " + describe(directory, tier.directIo()));
      if (!c.writes()) {
        readSet = new StoreKey[(int) setBlocks];
        for (int i = 0; i < readSet.length; i++) {
          readSet[i] = orderedKey(i);
          put(readSet[i]);
        }
        tier.flush();
      }
    }

    @Setup(Level.Iteration)
    public void dropCaches() {
      if (!config.writes() && !tier.directIo()) {
        DiskTierBenchmark.dropCaches();
      }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException, StoreException {
      long live = tier == null ? 0 : tier.usedBytes();
      try {
        try {
          if (tier != null) {
            tier.close(); // flushes; no compaction deletes files under sizeOf after this
          }
        } finally {
          io.shutdownNow();
          src.release();
        }
        if (config.writes() && tier != null) {
          System.out.printf(
              Locale.ROOT,
              "# disk: the tier's files take %.0f MiB for %.0f MiB of live blocks%n",
              sizeOf(directory) / (double) (1 << 20),
              live / (double) (1 << 20));
        }
      } finally {
        deleteTree(directory);
      }
    }

    StoreKey newKey() {
      byte[] k = new byte[BlockKey.BYTES]; // random, like the SHA-256 prefix keys of real blocks
      new SplittableRandom(nextKey.incrementAndGet()).nextBytes(k);
      return new StoreKey(NamespaceId.of(0, 1), BlockKey.of(k));
    }

    /**
     * The read set's {@code i}th key: ascending, so that RocksDB, which writes each flush's blobs
     * in key order, lays the set out on disk in the order it is read, as the baseline's file is.
     */
    static StoreKey orderedKey(long i) {
      byte[] k = new byte[BlockKey.BYTES];
      new SplittableRandom(i).nextBytes(k);
      for (int b = 0; b < Long.BYTES; b++) {
        k[b] = (byte) (i >>> (8 * (Long.BYTES - 1 - b))); // big-endian: byte order is number order
      }
      return new StoreKey(NamespaceId.of(0, 1), BlockKey.of(k));
    }

    void put(StoreKey key) throws StoreException {
      try (BlockWriter w = tier.reserve(key, src.readableBytes())) {
        w.write(0, src).join();
        if (!w.commit(crc32c).join()) {
          throw new IllegalStateException("block " + key + " was already stored");
        }
      }
    }
  }

  /**
   * One benchmark thread's files for the baseline, written and read with the tier's direct-I/O
   * setting.
   */
  @State(Scope.Thread)
  public static class RawState {
    Config config;
    Path directory;
    boolean direct;
    ByteBuffer block; // aligned for O_DIRECT
    OpenOption[] options;

    /** Writes: the file being written, its next offset, and the finished files, oldest first. */
    FileChannel out;

    long outPosition;
    long fileBytes;
    int fileCount;
    final ArrayDeque<Path> files = new ArrayDeque<>();
    long filesKept;

    /** Reads: the file holding the data set, its blocks, and the next to read. */
    FileChannel in;

    long setBlocks;
    long nextRead;

    @Setup(Level.Trial)
    public void open(Config c) throws IOException, StoreException {
      config = c;
      directory = c.newDirectory("raw");
      direct = tierUsesDirectIo(directory);
      System.out.println("# disk: " + describe(directory, direct) + " (baseline)");
      int align = (int) Math.max(512, Files.getFileStore(directory).getBlockSize());
      if (c.blockBytes % align != 0) {
        throw new IllegalArgumentException(
            "blockBytes must be a multiple of the filesystem block size, " + align);
      }
      block =
          ByteBuffer.allocateDirect(c.blockBytes + align)
              .alignedSlice(align)
              .slice(0, c.blockBytes);
      block.put(c.data()).clear();
      options = direct ? new OpenOption[] {ExtendedOpenOption.DIRECT} : new OpenOption[] {};
      fileBytes = c.blockBytes * Math.max(1, FILE_BYTES / c.blockBytes);
      filesKept = Math.max(1, c.liveBytes / fileBytes);
      if (!c.writes()) {
        setBlocks = Math.max(2, c.readSetBytes / c.blockBytes);
        Path set = directory.resolve("read-set");
        try (FileChannel ch = open(set, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          for (long i = 0; i < setBlocks; i++) {
            writeFully(ch, block, i * c.blockBytes);
          }
          ch.force(false);
        }
        in = open(set, StandardOpenOption.READ);
      }
    }

    @Setup(Level.Iteration)
    public void dropCaches() {
      if (!config.writes() && !direct) {
        DiskTierBenchmark.dropCaches();
      }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      try {
        if (out != null) {
          out.close();
        }
        if (in != null) {
          in.close();
        }
      } finally {
        deleteTree(directory);
      }
    }

    FileChannel open(Path p, OpenOption... how) throws IOException {
      List<OpenOption> all = new ArrayList<>(List.of(how));
      all.addAll(List.of(options));
      return FileChannel.open(p, all.toArray(OpenOption[]::new));
    }

    /**
     * Syncs and closes the full file, deletes the oldest beyond the live bytes, starts a new one.
     */
    void nextFile() throws IOException {
      if (out != null) {
        out.force(false);
        out.close();
        while (files.size() > filesKept) {
          Files.delete(files.poll());
        }
      }
      Path p = directory.resolve("file-" + fileCount++);
      out = open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      files.add(p);
      outPosition = 0;
    }
  }

  /** Ours: write ({@code op=write}) or read one block through the disk tier. */
  @Benchmark
  public long tier(Config c, TierState s) throws StoreException {
    if (c.writes()) {
      StoreKey key = s.newKey();
      s.put(key);
      s.live.add(key);
      if (s.liveCount.incrementAndGet() > s.liveBlocks) {
        s.liveCount.decrementAndGet();
        s.tier.remove(s.live.poll());
      }
      return key.hashCode();
    }
    StoreKey key = s.readSet[(int) (s.nextRead.getAndIncrement() % s.readSet.length)];
    BlockLease lease = s.tier.read(key).join();
    if (lease == null) {
      throw new IllegalStateException("block " + key + " of the read set is missing");
    }
    try {
      return lease.length();
    } finally {
      lease.release();
    }
  }

  /** The limit: the same bytes written or read with {@link FileChannel}, sequentially. */
  @Benchmark
  public long baselineFileChannel(Config c, RawState r) throws IOException {
    if (c.writes()) {
      if (r.out == null || r.outPosition + c.blockBytes > r.fileBytes) {
        r.nextFile();
      }
      writeFully(r.out, r.block, r.outPosition);
      r.outPosition += c.blockBytes;
      return r.outPosition;
    }
    long at = (r.nextRead++ % r.setBlocks) * c.blockBytes;
    ByteBuffer b = r.block.clear();
    while (b.hasRemaining()) {
      if (r.in.read(b, at + b.position()) < 0) {
        throw new IllegalStateException("the read set file ends before " + (at + b.position()));
      }
    }
    return at;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static void writeFully(FileChannel ch, ByteBuffer block, long at) throws IOException {
    ByteBuffer b = block.duplicate().clear();
    while (b.hasRemaining()) {
      ch.write(b, at + b.position());
    }
  }

  /** Whether a disk tier opened in {@code parent} uses direct I/O there. */
  static boolean tierUsesDirectIo(Path parent) throws IOException, StoreException {
    Path probe = parent.resolve("probe");
    ExecutorService none = Executors.newSingleThreadExecutor();
    try (DiskTier t =
        DiskTier.newBuilder().directory(probe).capacityBytes(1 << 20).executor(none).build()) {
      return t.directIo();
    } finally {
      none.shutdownNow();
      deleteTree(probe);
    }
  }

  static String describe(Path directory, boolean direct) throws IOException {
    return (direct
            ? "direct I/O (O_DIRECT, aligned buffers)"
            : "buffered I/O (the filesystem refuses O_DIRECT; page cache dropped before reads)")
        + " on "
        + Files.getFileStore(directory).type()
        + " at "
        + directory;
  }

  /**
   * Drops the clean page cache (written data was synced), so buffered reads come from the device;
   * fails the benchmark where that is not allowed.
   */
  static void dropCaches() {
    try {
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");
    } catch (IOException e) {
      throw new IllegalStateException(
          "buffered I/O and the page cache cannot be dropped ("
              + e
              + "): reads would measure memory; run as root or on a filesystem with O_DIRECT",
          e);
    }
  }

  /** Bytes of the files under {@code dir}, which nothing may change meanwhile. */
  static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      long sum = 0;
      for (Path p : (Iterable<Path>) all::iterator) {
        if (Files.isRegularFile(p)) {
          sum += Files.size(p);
        }
      }
      return sum;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
