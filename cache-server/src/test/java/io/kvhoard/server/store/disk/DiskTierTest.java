package io.kvhoard.server.store.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.NoSpaceException;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.Tier;
import io.kvhoard.server.store.TierContractTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.FlushOptions;
import org.rocksdb.LiveFileMetaData;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The {@link Tier} contract on a real RocksDB in a temporary directory, then what only the disk
 * tier promises: restarts (clean and {@code kill -9}), corruption never served, enforced logical
 * capacity, medium failures as {@link StoreException}s.
 */
@Timeout(60) // a hang (a flush waiting on a full disk) fails the test instead of the build
class DiskTierTest extends TierContractTest {
  /** The caller-owned I/O threads every tier here runs on. */
  private static final ExecutorService IO =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "disk-tier-test-io");
            t.setDaemon(true);
            return t;
          });

  @TempDir Path temp;

  @AfterAll
  static void stopIo() {
    IO.shutdownNow();
  }

  private Path dir() {
    return temp.resolve("disk");
  }

  private DiskTier.Builder builder(Path dir, long capacity) {
    return DiskTier.newBuilder().directory(dir).capacityBytes(capacity).executor(IO);
  }

  private DiskTier disk() {
    return (DiskTier) tier;
  }

  @Override
  protected Tier newTier() throws StoreException {
    return builder(dir(), CAPACITY).build();
  }

  /** No paging: the unit is the blob threshold, so the contract's sizes straddle both paths. */
  @Override
  protected int unit() {
    return DiskTier.MIN_BLOB_BYTES;
  }

  @Override
  protected boolean leaseHoldsSpace() {
    return false; // a lease holds a private copy in direct memory
  }

  @Override
  protected void assertInvariants(Tier t) {
    DiskTier d = (DiskTier) t;
    assertEquals(0, d.outstandingLeases(), "every lease released");
    assertEquals(0, d.openWriters(), "every writer committed or closed");
    DiskOpener.Scan scan;
    try {
      scan = d.recount();
    } catch (IllegalStateException closed) {
      return;
    } catch (StoreException e) {
      throw new AssertionError(e);
    }
    assertEquals(scan.count(), d.blockCount(), "block count matches the meta records");
    assertEquals(scan.bytes(), d.committedBytes(), "committed bytes match the meta records");
    assertEquals(d.committedBytes(), d.usedBytes(), "no reservation left behind");
  }

  // ---- builder and directory ----------------------------------------------------------------

  @Test
  void build_missingRequired_failsNamingThem() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> DiskTier.newBuilder().build());
    assertTrue(e.getMessage().contains("directory, capacityBytes, executor"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DiskTier.newBuilder().capacityBytes(0));
    assertThrows(IllegalArgumentException.class, () -> DiskTier.newBuilder().writeBufferBytes(10));
    assertThrows(
        IllegalArgumentException.class,
        () -> DiskTier.newBuilder().writeTimeout(Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> DiskTier.newBuilder().executor(null));
  }

  @Test
  void build_foreignNonEmptyDirectory_refusedWithReason() throws IOException {
    Path foreign = Files.createDirectories(temp.resolve("foreign"));
    Files.writeString(foreign.resolve("notes.txt"), "mine");
    StoreException e = assertThrows(StoreException.class, () -> builder(foreign, CAPACITY).build());
    assertTrue(e.getMessage().contains("directory of its own"), e.getMessage());
    assertTrue(Files.exists(foreign.resolve("notes.txt")), "nothing of the user's touched");
  }

  @Test
  void build_directoryInUse_refusedWithReason() {
    StoreException e = assertThrows(StoreException.class, () -> builder(dir(), CAPACITY).build());
    assertTrue(e.getMessage().contains("another process"), e.getMessage());
  }

  @Test
  void directIo_probedAndReported() throws StoreException {
    assertEquals(DirectIo.supported(dir()), disk().directIo(), "the probe decides");
    assertFalse(DirectIo.supported(temp.resolve("absent")), "a failed probe means buffered");
    try (DiskTier buffered =
        builder(temp.resolve("buffered"), CAPACITY).preferDirectIo(false).build()) {
      assertFalse(buffered.directIo());
      assertTrue(put(buffered, key(1), bytesOf(1, 200_000)));
      assertArrayEquals(bytesOf(1, 200_000), get(buffered, key(1)));
    }
  }

  // ---- leases and commits -------------------------------------------------------------------

  @Test
  void lease_contentIsDirectReadOnlyAndOutlivesClose() throws StoreException {
    byte[] data = bytesOf(1, 3 * unit() + 7);
    assertTrue(put(key(1), data));
    BlockLease lease = tier.read(key(1)).join();
    try {
      ByteBuf content = lease.content();
      assertTrue(content.isDirect(), "off the Java heap");
      assertTrue(content.isReadOnly());
      assertEquals(data.length, content.readableBytes());
      tier.close();
      assertArrayEquals(data, readAll(lease.content()), "a lease keeps its memory after close");
    } finally {
      lease.release();
    }
    assertEquals(0, disk().outstandingLeases());
  }

  @Test
  void commit_wrongChecksum_rejectedAndNothingStored() throws StoreException {
    byte[] data = bytesOf(1, 5000);
    try (BlockWriter w = tier.reserve(key(1), data.length)) {
      w.write(0, Unpooled.wrappedBuffer(data, 0, 4000)).join(); // 1000 bytes never written
      CompletionException e =
          assertThrows(CompletionException.class, () -> w.commit(crc(data)).join());
      assertInstanceOf(IllegalArgumentException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("does not match"), e.getCause().getMessage());
    }
    assertFalse(tier.contains(key(1)));
    assertEquals(0, tier.usedBytes());
  }

  @Test
  void read_onRejectingExecutor_failsWithStoreException() throws StoreException {
    tier.close();
    try (DiskTier rejecting =
        DiskTier.newBuilder()
            .directory(dir())
            .capacityBytes(CAPACITY)
            .executor(
                r -> {
                  throw new java.util.concurrent.RejectedExecutionException("full");
                })
            .build()) {
      CompletionException e =
          assertThrows(CompletionException.class, () -> rejecting.read(key(1)).join());
      assertInstanceOf(StoreException.class, e.getCause());
      BlockWriter w = rejecting.reserve(key(1), 10);
      w.write(0, Unpooled.wrappedBuffer(bytesOf(1, 10))).join();
      assertThrows(CompletionException.class, () -> w.commit(crc(bytesOf(1, 10))).join());
      assertEquals(0, rejecting.usedBytes(), "the rejected commit's space is freed");
      assertEquals(0, rejecting.openWriters());
    }
  }

  // ---- capacity -----------------------------------------------------------------------------

  @Test
  void capacity_fillThenRemove_spaceComesBackLogically() throws StoreException {
    int size = 1 << 20; // 8 blocks fill the 8 MiB tier exactly
    int n = 0;
    while (tier.usedBytes() + size <= tier.capacityBytes()) {
      assertTrue(put(key(n), bytesOf(n, size)));
      n++;
    }
    assertEquals(8, n);
    assertEquals(tier.capacityBytes(), tier.usedBytes(), "used bytes are logical block bytes");
    NoSpaceException full = assertThrows(NoSpaceException.class, () -> tier.reserve(key(99), 1));
    assertTrue(full.everFits());
    assertEquals(0, full.free());
    assertTrue(tier.remove(key(3)));
    assertEquals(tier.capacityBytes() - size, tier.usedBytes());
    assertTrue(put(key(99), bytesOf(99, size)), "the removed block's space is back");
    assertThrows(NoSpaceException.class, () -> tier.reserve(key(100), 1));
  }

  /**
   * Removing most blocks frees their logical space at once and their disk space at {@link
   * DiskTier#compact()}: the blob files that held only removed blocks are deleted, and the blocks
   * left read back bit-exact.
   */
  @Test
  void compact_afterRemovingMostBlocks_blobFilesShrinkToTheLiveBlocks() throws Exception {
    tier.close();
    tier = builder(dir(), 1L << 30).writeBufferBytes(1 << 20).build(); // a blob file per MiB
    int size = 256 * 1024;
    for (int i = 0; i < 64; i++) {
      assertTrue(put(key(i), bytesOf(i, size)));
    }
    disk().flush();
    long written = blobBytes(dir());
    assertTrue(written >= 64L * size, "every block is in a blob file: " + written);
    for (int i = 0; i < 56; i++) {
      assertTrue(tier.remove(key(i)));
    }
    assertEquals(8L * size, tier.usedBytes(), "logical space comes back at once");

    disk().compact();
    // RocksDB may purge the obsolete blob files just after the compaction returns.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (blobBytes(dir()) > 8L * size + (2 << 20) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    long left = blobBytes(dir());
    assertTrue(
        left <= 8L * size + (2 << 20),
        "blob files shrink to the live blocks (2 MiB slack for partly live files): "
            + written
            + " -> "
            + left
            + " bytes");
    for (int i = 56; i < 64; i++) {
      assertArrayEquals(bytesOf(i, size), get(key(i)), "block " + i);
    }
  }

  /**
   * An idle tier gives the disk space of a mass removal back by itself: past {@code
   * compactAfterRemoving} bytes removed, it compacts on its executor.
   */
  @Test
  void remove_pastCompactAfterRemoving_compactsByItself() throws Exception {
    tier.close();
    int size = 256 * 1024;
    tier =
        builder(dir(), 1L << 30).writeBufferBytes(1 << 20).compactAfterRemoving(12L * size).build();
    for (int i = 0; i < 64; i++) {
      assertTrue(put(key(i), bytesOf(i, size)));
    }
    disk().flush();
    long written = blobBytes(dir());
    for (int i = 0; i < 8; i++) {
      assertTrue(tier.remove(key(i)));
    }
    assertEquals(0, disk().autoCompactions(), "8 blocks removed: below the threshold of 12");
    for (int i = 8; i < 56; i++) {
      assertTrue(tier.remove(key(i)));
    }
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (blobBytes(dir()) > 8L * size + (2 << 20) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    long left = blobBytes(dir());
    assertTrue(
        left <= 8L * size + (2 << 20),
        "blob files shrink to the live blocks without a compact() call: "
            + written
            + " -> "
            + left
            + " bytes");
    assertTrue(disk().autoCompactions() >= 1, "compactions: " + disk().autoCompactions());
    for (int i = 56; i < 64; i++) {
      assertArrayEquals(bytesOf(i, size), get(key(i)), "block " + i);
    }
  }

  /** Bytes of the blob files in a store's directory. */
  private static long blobBytes(Path d) throws IOException {
    try (Stream<Path> all = Files.list(d)) {
      long sum = 0;
      for (Path p : (Iterable<Path>) all::iterator) {
        if (p.toString().endsWith(".blob")) {
          sum += Files.size(p);
        }
      }
      return sum;
    }
  }

  // ---- restarts -----------------------------------------------------------------------------

  @Test
  void reopen_afterClose_servesEveryBlockBitExact() throws StoreException {
    int[] sizes = {1, 100, 4096, unit() - 1, unit(), unit() + 1, 3 << 20, 777_777};
    for (int i = 0; i < sizes.length; i++) {
      assertTrue(put(key(i), bytesOf(i, sizes[i])));
    }
    assertTrue(tier.remove(key(2)));
    long used = tier.usedBytes();
    tier.close();

    tier = builder(dir(), CAPACITY).build();
    assertEquals(sizes.length - 1, tier.blockCount());
    assertEquals(used, tier.usedBytes(), "start-up recounts used bytes from the meta records");
    for (int i = 0; i < sizes.length; i++) {
      if (i == 2) {
        assertTrue(get(key(i)) == null, "a removal survives a clean close");
      } else {
        assertArrayEquals(bytesOf(i, sizes[i]), get(key(i)), "size " + sizes[i]);
      }
    }
    assertEquals(0, disk().checksumFailures());
    assertFalse(put(key(0), bytesOf(0, sizes[0])), "first writer still wins after restart");
  }

  /**
   * A child JVM (64 MiB heap) writes blocks, flushing every few and saying so, and is killed with
   * SIGKILL mid-stream: every block flushed before the kill is served bit-exact; later ones are
   * served bit-exact or not at all.
   */
  @Test
  void reopen_afterKillDashNine_servesOnlyWholeVerifiedBlocks() throws Exception {
    tier.close();
    Path log = temp.resolve("writer.log");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-XX:MaxDirectMemorySize=64m",
                "-cp",
                System.getProperty("java.class.path"),
                CrashWriter.class.getName(),
                dir().toString())
            .redirectError(log.toFile())
            .start();
    int durable = -1;
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
      String line;
      while (durable < CrashWriter.KILL_AFTER && (line = out.readLine()) != null) {
        if (line.startsWith("durable ")) {
          durable = Integer.parseInt(line.substring(8));
        }
      }
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no flush
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
    assertTrue(
        durable >= CrashWriter.KILL_AFTER,
        "the writer flushed blocks before the kill: " + Files.readString(log));

    tier = builder(dir(), CrashWriter.CAPACITY).build();
    int served = 0;
    for (int i = 0; i < CrashWriter.MAX_BLOCKS; i++) {
      byte[] got = get(key(i));
      if (i < durable) {
        assertNotNull(got, "block " + i + " was flushed before the kill");
      }
      if (got != null) {
        assertArrayEquals(bytesOf(i, CrashWriter.size(i)), got, "block " + i);
        served++;
      }
    }
    assertTrue(served >= durable);
    assertEquals(served, tier.blockCount(), "the count rebuilt at start-up is what is served");
    assertEquals(0, disk().checksumFailures(), "a crash loses whole blocks, never tears one");
  }

  /**
   * The writer process that {@link #reopen_afterKillDashNine_servesOnlyWholeVerifiedBlocks} kills.
   */
  static final class CrashWriter {
    static final int MAX_BLOCKS = 400;
    static final int KILL_AFTER = 48;
    static final long CAPACITY = 1L << 30;

    static int size(int i) {
      return i % 3 == 0 ? 1000 + i : 70_000 + 997 * i; // inline values and blobs
    }

    public static void main(String[] args) throws Exception {
      ExecutorService io = Executors.newSingleThreadExecutor();
      DiskTier t =
          DiskTier.newBuilder()
              .directory(Path.of(args[0]))
              .capacityBytes(CAPACITY)
              .executor(io)
              .writeBufferBytes(1 << 20)
              .writeTimeout(Duration.ofSeconds(10))
              .build();
      for (int i = 0; i < MAX_BLOCKS; i++) {
        byte[] data = bytesOf(i, size(i));
        try (BlockWriter w = t.reserve(key(i), data.length)) {
          w.write(0, Unpooled.wrappedBuffer(data)).join();
          w.commit(crc(data)).join();
        }
        if (i % 8 == 7) {
          t.flush();
          System.out.println("durable " + (i + 1));
          System.out.flush();
        }
      }
      Thread.sleep(60_000); // never closed: the parent kills this process
    }
  }

  // ---- corruption ---------------------------------------------------------------------------

  /**
   * Flips bits in the files that hold block bytes (blob files, and the SST files of the {@code
   * blocks} family: inline values, keys, indexes) of a closed store, then reads every key: each
   * read is the exact bytes or a miss, and each miss is counted and dropped. Three seeds, the last
   * one hitting the SST files too.
   */
  @Test
  void reopen_afterFlippingBitsInBlockFiles_eachBlockExactOrCountedMiss() throws Exception {
    tier.close();
    for (int seed = 1; seed <= 3; seed++) {
      Path d = writeCorruptionVictims(temp.resolve("blocks-" + seed));
      List<Path> victims = new ArrayList<>();
      try (Stream<Path> all = Files.list(d)) {
        all.filter(p -> p.toString().endsWith(".blob")).forEach(victims::add);
      }
      assertTrue(victims.size() > 1, "several blob files: " + victims);
      if (seed == 3) {
        // SST files are small and mostly index: a flipped bit there costs every block it covers.
        victims.addAll(filesOf(d, DiskDatabase.BLOCKS));
      }
      Corruption.flipBits(victims, new SplittableRandom(seed), 4);
      try (DiskTier t = builder(d, CAPACITY).build()) {
        List<Integer> misses = readBackExactOrMiss(t, "seed " + seed);
        assertFalse(t.discardedCorruptStore(), "the meta records are intact");
        assertFalse(misses.isEmpty(), "flipped bits are noticed");
        assertEquals(misses.size(), t.checksumFailures(), "every miss counted: " + misses);
        assertEquals(CORRUPTION_VICTIMS - misses.size(), t.blockCount(), "misses are dropped");
        assertInvariants(t);
      }
    }
  }

  /**
   * Flips bits in the SST files of the {@code meta} family: the store can no longer say what it
   * holds, so it is discarded at start-up and starts empty (a cache may forget), serves no wrong
   * byte, and works.
   */
  @Test
  void reopen_afterFlippingBitsInMetaFiles_discardedAndStartsEmpty() throws Exception {
    tier.close();
    Path d = writeCorruptionVictims(temp.resolve("meta"));
    Corruption.flipBits(filesOf(d, DiskDatabase.META), new SplittableRandom(7), 4);
    try (DiskTier t = builder(d, CAPACITY).build()) {
      assertTrue(t.discardedCorruptStore());
      assertEquals(0, t.blockCount());
      assertEquals(0, t.usedBytes());
      assertEquals(CORRUPTION_VICTIMS, readBackExactOrMiss(t, "meta").size());
      assertTrue(put(t, key(1000), bytesOf(1000, 300_000)), "the tier works");
      assertArrayEquals(bytesOf(1000, 300_000), get(t, key(1000)));
      assertInvariants(t);
    }
    assertTrue(Files.exists(d.resolve(DiskOpener.MARKER_FILE)), "still the disk tier's directory");
  }

  /** The SST files of one column family of a closed store. */
  private static List<Path> filesOf(Path d, byte[] family) throws RocksDBException {
    try (DiskDatabase db = DiskDatabase.open(d, false, 1 << 20)) {
      List<Path> files = new ArrayList<>();
      for (LiveFileMetaData f : db.db.getLiveFilesMetaData()) {
        if (Arrays.equals(family, f.columnFamilyName())) {
          files.add(d.resolve(f.fileName().replaceFirst("^/", "")));
        }
      }
      return files;
    }
  }

  private static final int CORRUPTION_VICTIMS = 40;

  /** A closed store in {@code d} of small (inline) and large (blob) blocks, in several files. */
  private Path writeCorruptionVictims(Path d) throws StoreException {
    try (DiskTier t = builder(d, CAPACITY).writeBufferBytes(1 << 20).build()) {
      for (int i = 0; i < CORRUPTION_VICTIMS; i++) {
        assertTrue(put(t, key(i), bytesOf(i, corruptSize(i))));
      }
    }
    return d;
  }

  /**
   * Reads every victim: exact bytes or a miss, and a miss is no longer held; returns the misses.
   */
  private static List<Integer> readBackExactOrMiss(DiskTier t, String what) {
    List<Integer> misses = new ArrayList<>();
    for (int i = 0; i < CORRUPTION_VICTIMS; i++) {
      byte[] got = get(t, key(i));
      if (got == null) {
        misses.add(i);
        assertFalse(t.contains(key(i)), what + ": a corrupt block is dropped");
      } else {
        assertArrayEquals(bytesOf(i, corruptSize(i)), got, what + " block " + i);
      }
    }
    return misses;
  }

  private static int corruptSize(int i) {
    return i % 4 == 0 ? 2000 + i : 150_000 + 1013 * i;
  }

  /**
   * Bytes changed under RocksDB's feet, consistently with RocksDB's own checksums (a lying medium,
   * a bug, a bad copy): the block's CRC32C, length and presence checks catch each case.
   */
  @Test
  void read_bytesThatDisagreeWithTheirRecord_missCountedAndDropped() throws Exception {
    for (int i = 0; i < 4; i++) {
      assertTrue(put(key(i), bytesOf(i, 100_000)));
    }
    tier.close();
    try (DiskDatabase db = DiskDatabase.open(dir(), false, 1 << 20);
        WriteBatch batch = new WriteBatch();
        FlushOptions flushAndWait = new FlushOptions().setWaitForFlush(true)) {
      byte[] other = bytesOf(1, 100_000);
      other[5000] ^= 1;
      batch.put(db.blocks, key(1).toBytes(), other); // same length, other bytes
      batch.put(db.blocks, key(2).toBytes(), bytesOf(2, 99_999)); // shorter
      batch.delete(db.blocks, key(3).toBytes()); // meta without data
      db.db.write(db.writeOptions, batch);
      db.db.flush(
          flushAndWait,
          List.of(db.blocks, db.meta)); // no WAL: unflushed writes would vanish at close
    } catch (RocksDBException e) {
      throw new AssertionError(e);
    }

    tier = builder(dir(), CAPACITY).build();
    assertEquals(4, tier.blockCount());
    assertArrayEquals(bytesOf(0, 100_000), get(key(0)));
    for (int i = 1; i < 4; i++) {
      assertTrue(get(key(i)) == null, "block " + i + " is a miss, not wrong bytes");
      assertFalse(tier.contains(key(i)), "and is dropped");
    }
    assertEquals(3, disk().checksumFailures());
    assertEquals(1, tier.blockCount());
    assertEquals(100_000, tier.usedBytes());
  }

  // ---- medium failures ----------------------------------------------------------------------

  /**
   * The directory vanishes under a running tier (a failed or unmounted disk): the flush fails with
   * a StoreException that says what to check, and commits fail too once memory can take no more;
   * the counters stay right and every block that was stored stays readable.
   */
  @Test
  void commit_afterFilesVanish_failsWithStoreExceptionAndStaysConsistent() throws Exception {
    tier.close();
    tier = builder(dir(), 1L << 30).writeBufferBytes(1 << 20).writeTimeout(WRITE_TIMEOUT).build();
    assertTrue(put(key(0), bytesOf(0, 100_000)));
    try (Stream<Path> files = Files.list(dir())) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir());
    StoreException flush = assertThrows(StoreException.class, () -> disk().flush());
    assertTrue(flush.getMessage().contains("check that the disk"), flush.getMessage());

    List<Integer> stored = fillUntilFailure(disk(), 1, 100_000);
    stored.add(0);
    assertStoredReadable(disk(), stored, 100_000);
    assertThrows(StoreException.class, () -> tier.close(), "the final flush fails, and says so");
    assertThrows(IllegalStateException.class, () -> tier.reserve(key(3), 1), "closed all the same");
  }

  /**
   * A real full disk (a 4 MiB tmpfs; skipped where mounting is not allowed): commits fail with a
   * StoreException instead of blocking, and every block that was stored stays readable.
   */
  @Test
  void commit_onFullDisk_failsWithStoreExceptionAndStaysConsistent() throws Exception {
    Path small = Files.createDirectories(temp.resolve("small"));
    assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.toString()) == 0);
    try {
      DiskTier t =
          builder(small.resolve("disk"), 1L << 30)
              .writeBufferBytes(1 << 20)
              .writeTimeout(WRITE_TIMEOUT)
              .build();
      try {
        List<Integer> stored = fillUntilFailure(t, 0, 256 * 1024);
        assertStoredReadable(t, stored, 256 * 1024);
      } finally {
        try {
          t.close();
        } catch (StoreException expected) {
          // The final flush cannot fit either; close still closed everything.
        }
      }
    } finally {
      run("umount", small.toString());
    }
  }

  private static final Duration WRITE_TIMEOUT = Duration.ofMillis(300);

  /** Commits blocks from key {@code first} on until one fails; returns the keys stored. */
  private static List<Integer> fillUntilFailure(DiskTier t, int first, int size)
      throws StoreException {
    List<Integer> stored = new ArrayList<>();
    for (int i = first; i < first + 400; i++) {
      try {
        assertTrue(put(t, key(i), bytesOf(i, size)));
        stored.add(i);
      } catch (CompletionException e) {
        StoreException failure = assertInstanceOf(StoreException.class, e.getCause());
        assertTrue(failure.getMessage().contains("not stored"), failure.getMessage());
        assertTrue(failure.getMessage().contains("free space"), failure.getMessage());
        assertFalse(t.contains(key(i)));
        return stored;
      }
    }
    throw new AssertionError("no commit failed after " + stored.size() + " blocks");
  }

  /** The counters match the blocks stored, and each reads back bit-exact. */
  private void assertStoredReadable(DiskTier t, List<Integer> stored, int size) {
    assertEquals(stored.size(), t.blockCount());
    assertEquals((long) stored.size() * size, t.usedBytes(), "failed reservations are freed");
    for (int i : stored) {
      assertTrue(Arrays.equals(bytesOf(i, size), get(t, key(i))), "block " + i);
    }
    assertInvariants(t);
  }

  private static int run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  // ---- helpers on a given tier --------------------------------------------------------------

  private static boolean put(Tier t, StoreKey key, byte[] data) throws StoreException {
    try (BlockWriter w = t.reserve(key, data.length)) {
      w.write(0, Unpooled.wrappedBuffer(data)).join();
      return w.commit(crc(data)).join();
    }
  }

  private static byte[] get(Tier t, StoreKey key) {
    BlockLease lease = t.read(key).join();
    if (lease == null) {
      return null;
    }
    try {
      return readAll(lease.content());
    } finally {
      lease.release();
    }
  }
}
