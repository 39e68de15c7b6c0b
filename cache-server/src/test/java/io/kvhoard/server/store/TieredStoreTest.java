package io.kvhoard.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.directory.DirectoryEntry;
import io.kvhoard.server.store.disk.Corruption;
import io.kvhoard.server.store.disk.DiskTier;
import io.kvhoard.server.store.host.HostTier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiered store on a real host tier, a real RocksDB disk tier and a real Chronicle Map
 * directory. After every test the directory, the tiers and the policies agree ({@link
 * TieredStore#verify()}) and no host lease is left.
 */
@Timeout(120)
class TieredStoreTest {
  static final NamespaceId NS = NamespaceId.of(5, 6);
  static final int PAGE = 64 * 1024;
  static final int BLOCK = 2 * PAGE; // 128 KiB: two host pages, a blob on disk

  /** Disk I/O threads, caller-owned as the tier's contract asks. */
  static final ExecutorService IO = Executors.newFixedThreadPool(2);

  @TempDir Path dir;

  TieredStore store;
  HostTier host;
  DiskTier disk;

  @AfterAll
  static void stopIo() {
    IO.shutdownNow();
  }

  @AfterEach
  void checkAndClose() throws StoreException {
    if (store != null) {
      assertEquals(List.of(), store.verify(), "directory, tiers and policies agree");
      assertEquals(0, host.outstandingLeases(), "every host lease released");
      store.close();
    }
  }

  // ---- fixtures -------------------------------------------------------------------------------

  static StoreKey key(long n) {
    byte[] b = new byte[32];
    new SplittableRandom(n * 7919 + 1).nextBytes(b);
    return new StoreKey(NS, BlockKey.of(b));
  }

  static byte[] bytesOf(long n, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(n * 31 + length).nextBytes(b);
    return b;
  }

  static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  HostTier newHost(long capacity) throws StoreException {
    return HostTier.newBuilder().capacityBytes(capacity).pageSize(PAGE).build();
  }

  DiskTier newDisk(long capacity) throws StoreException {
    return DiskTier.newBuilder()
        .directory(dir.resolve("disk"))
        .capacityBytes(capacity)
        .executor(IO)
        .build();
  }

  /** Host (+ disk if diskCapacity > 0), persisted directory, evictions run inline. */
  TieredStore open(long hostCapacity, long diskCapacity) throws StoreException {
    host = newHost(hostCapacity);
    TieredStore.Builder b = TieredStore.newBuilder().tier(host);
    if (diskCapacity > 0) {
      disk = newDisk(diskCapacity);
      b.tier(disk);
    }
    store =
        b.directory(BlockDirectory.persisted(dir.resolve("directory.cm3"), 10_000))
            .executor(Runnable::run)
            .watermarks(0.9, 0.7)
            .build();
    return store;
  }

  boolean put(long n, long parent, int length) throws StoreException {
    return put(key(n), parent < 0 ? null : key(parent).key(), bytesOf(n, length));
  }

  boolean put(StoreKey key, BlockKey parent, byte[] data) throws StoreException {
    try (BlockWriter w = store.reserve(key, parent, 16, data.length)) {
      w.write(0, Unpooled.wrappedBuffer(data)).join();
      return w.commit(crc(data)).join();
    }
  }

  byte[] get(long n) {
    return get(key(n));
  }

  byte[] get(StoreKey key) {
    BlockLease lease = store.read(key).join();
    if (lease == null) {
      return null;
    }
    try {
      ByteBuf dst = Unpooled.buffer((int) lease.length());
      lease.copyTo(dst).join();
      byte[] out = new byte[dst.readableBytes()];
      dst.readBytes(out);
      assertEquals(lease.crc32c(), crc(out), "lease's CRC32C matches its bytes");
      return out;
    } finally {
      lease.release();
    }
  }

  // ---- put and read ----------------------------------------------------------------------------

  @Test
  void put_thenRead_bitExactFromHost() throws StoreException {
    open(4 << 20, 0);
    assertTrue(put(1, -1, 1000));
    assertArrayEquals(bytesOf(1, 1000), get(1));
    DirectoryEntry e = store.entry(key(1));
    assertTrue(e.in(TierKind.HOST));
    assertEquals(1000, e.length());
    assertEquals(crc(bytesOf(1, 1000)), e.crc32c());
    assertNull(e.parent());
    assertEquals(1, store.stats().tiers().get(0).hits());
  }

  @Test
  void reserved_notVisibleUntilCommit_abortLeavesNothing() throws StoreException {
    open(4 << 20, 0);
    byte[] data = bytesOf(1, BLOCK);
    try (BlockWriter w = store.reserve(key(1), null, 16, BLOCK)) {
      w.write(0, Unpooled.wrappedBuffer(data)).join();
      assertFalse(store.contains(key(1)));
      assertNull(get(1));
      assertTrue(w.commit(crc(data)).join());
      assertTrue(store.contains(key(1)));
    }
    try (BlockWriter w = store.reserve(key(2), null, 16, BLOCK)) {
      w.write(0, Unpooled.wrappedBuffer(bytesOf(2, BLOCK))).join();
    } // closed without commit: aborted
    assertFalse(store.contains(key(2)));
    assertEquals(BLOCK, host.usedBytes(), "the aborted reservation's pages came back");
  }

  @Test
  void samekeyTwice_sameBytes_secondIsANoOp() throws StoreException {
    open(4 << 20, 0);
    assertTrue(put(1, -1, 5000));
    long used = host.usedBytes();
    assertFalse(put(1, -1, 5000));
    assertEquals(used, host.usedBytes(), "the second put took no space");
    assertEquals(1, store.stats().duplicatePuts());
  }

  @Test
  void sameKeyTwice_differentBytes_firstWriterWinsNeverAMix() throws StoreException {
    open(4 << 20, 0);
    byte[] first = bytesOf(1, 5000);
    byte[] second = bytesOf(2, 5000);
    assertTrue(put(key(1), null, first));
    assertFalse(put(key(1), null, second));
    assertArrayEquals(first, get(1));
    assertEquals(1, store.stats().conflictingPuts());
  }

  @Test
  void concurrentWriters_sameKeyDifferentBytes_inTwoTiers_firstCommitWins() throws StoreException {
    open(512 << 10, 64 << 20); // 4 blocks of RAM
    for (int i = 0; i < 3; i++) {
      assertTrue(put(i, -1, BLOCK));
      assertTrue(store.pin(key(i), Pin.HARD));
    }
    byte[] a = bytesOf(100, BLOCK);
    byte[] b = bytesOf(200, BLOCK);
    // Both reserve before either commits: a takes RAM's last block, b falls through to disk.
    try (BlockWriter wa = store.reserve(key(9), null, 16, BLOCK);
        BlockWriter wb = store.reserve(key(9), null, 16, BLOCK)) {
      assertEquals(4 * BLOCK, host.usedBytes(), "a reserved the last of RAM");
      wa.write(0, Unpooled.wrappedBuffer(a)).join();
      wb.write(0, Unpooled.wrappedBuffer(b)).join();
      assertTrue(wa.commit(crc(a)).join());
      assertFalse(wb.commit(crc(b)).join(), "the second commit loses");
    }
    assertArrayEquals(a, get(9), "a's bytes, wherever they are read from");
    DirectoryEntry e = store.entry(key(9));
    assertEquals(crc(a), e.crc32c());
    if (e.in(TierKind.DISK)) {
      BlockLease l = disk.read(key(9)).join();
      try {
        assertEquals(crc(a), l.crc32c(), "the disk copy is a's, not b's");
      } finally {
        l.release();
      }
    }
  }

  // ---- bad input -----------------------------------------------------------------------------

  @Test
  void badInput_clearErrors_storeUnchanged() throws StoreException {
    open(1 << 20, 4 << 20);
    assertThrows(IllegalArgumentException.class, () -> store.reserve(key(1), null, 16, 0));
    assertThrows(IllegalArgumentException.class, () -> store.reserve(key(1), null, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> store.reserve(key(1), key(1).key(), 16, 10));
    NoSpaceException tooBig =
        assertThrows(NoSpaceException.class, () -> store.reserve(key(1), null, 16, 8L << 20));
    assertFalse(tooBig.everFits());
    assertTrue(tooBig.getMessage().contains("larger than the tier's whole capacity"));
    assertEquals(0, store.stats().directoryEntries());
    assertEquals(0, host.usedBytes());
    assertEquals(0, disk.usedBytes());
  }

  @Test
  void blockLargerThanHost_fitsDisk_goesStraightToDisk() throws StoreException {
    open(1 << 20, 16 << 20);
    assertTrue(put(1, -1, 2 << 20));
    assertTrue(store.entry(key(1)).in(TierKind.DISK));
    assertFalse(store.entry(key(1)).in(TierKind.HOST));
    assertArrayEquals(bytesOf(1, 2 << 20), get(1));
  }

  @Test
  void closed_operationsFailClearly() throws StoreException {
    open(1 << 20, 0);
    store.close();
    assertThrows(IllegalStateException.class, () -> store.reserve(key(1), null, 1, 1));
    assertThrows(IllegalStateException.class, () -> store.read(key(1)));
    store.close(); // idempotent
    store = null;
  }

  // ---- eviction, demotion, promotion -------------------------------------------------------

  @Test
  void hostFull_evictedBlocksDemotedToDisk_allReadableBitExact() throws StoreException {
    open(1 << 20, 64 << 20); // 8 blocks fit in RAM
    for (int i = 0; i < 40; i++) {
      assertTrue(put(i, -1, BLOCK));
    }
    assertTrue(host.usedBytes() <= host.capacityBytes());
    StoreStats.TierStats h = store.stats().tiers().get(0);
    assertTrue(h.demotions() >= 32, "demoted: " + h);
    for (int i = 0; i < 40; i++) {
      assertArrayEquals(bytesOf(i, BLOCK), get(i), "block " + i);
    }
  }

  @Test
  void watermarks_evictionStopsAtTheLowMark() throws StoreException {
    open(1 << 20, 64 << 20); // high 0.9 = 7.2 blocks, low 0.7 = 5.6 blocks
    for (int i = 0; i < 8; i++) {
      assertTrue(put(i, -1, BLOCK));
    }
    long used = host.usedBytes();
    assertTrue(used <= (long) (0.7 * host.capacityBytes()), "evicted down to low: " + used);
    assertTrue(used >= (long) (0.7 * host.capacityBytes()) - BLOCK, "not further: " + used);
  }

  @Test
  void diskHit_promotesBackToHost() throws StoreException {
    open(1 << 20, 64 << 20);
    for (int i = 0; i < 20; i++) {
      assertTrue(put(i, -1, BLOCK));
    }
    assertFalse(store.entry(key(0)).in(TierKind.HOST), "block 0 was demoted");
    assertArrayEquals(bytesOf(0, BLOCK), get(0)); // served from disk, promoted inline
    DirectoryEntry e = store.entry(key(0));
    assertTrue(e.in(TierKind.HOST) && e.in(TierKind.DISK), "promoted, disk copy kept: " + e);
    assertEquals(1, store.stats().tiers().get(0).promotions());
    long diskHits = store.stats().tiers().get(1).hits();
    assertArrayEquals(bytesOf(0, BLOCK), get(0));
    assertEquals(diskHits, store.stats().tiers().get(1).hits(), "second read from host");
  }

  @Test
  void eviction_leavesBeforeAncestors_survivorsArePrefixes() throws StoreException {
    open(1 << 20, 0); // RAM only: evicted blocks are gone
    // Three prompts of 6 blocks each sharing the first 2 blocks; 14 distinct blocks, 8 fit.
    long next = 100;
    List<long[]> chains = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      long[] chain = new long[6];
      for (int i = 0; i < 6; i++) {
        chain[i] = i < 2 ? i : next++;
        put(chain[i], i == 0 ? -1 : chain[i - 1], BLOCK);
      }
      chains.add(chain);
    }
    assertTrue(store.contains(key(0)) && store.contains(key(1)), "the shared prefix stays");
    for (long[] chain : chains) {
      boolean gap = false;
      for (long n : chain) {
        if (!store.contains(key(n))) {
          gap = true;
        } else {
          assertFalse(gap, "a block survived after its parent went: " + n);
        }
      }
    }
  }

  @Test
  void leasedBlock_notEvictedWhileLeased() throws StoreException {
    open(1 << 20, 0);
    assertTrue(put(0, -1, BLOCK));
    BlockLease lease = store.read(key(0)).join();
    try {
      for (int i = 1; i < 30; i++) {
        put(i, -1, BLOCK);
      }
      assertTrue(store.contains(key(0)), "the leased block stayed, though least recently used");
      assertArrayEquals(bytesOf(0, BLOCK), ByteBufBytes.of(lease.content()));
    } finally {
      lease.release();
    }
  }

  @Test
  void removedWhileLeased_leaseStillReadsItsBytes() throws StoreException {
    open(1 << 20, 4 << 20);
    assertTrue(put(0, -1, BLOCK));
    BlockLease lease = store.read(key(0)).join();
    try {
      assertTrue(store.remove(key(0)));
      assertFalse(store.contains(key(0)));
      assertNull(get(0));
      assertArrayEquals(bytesOf(0, BLOCK), ByteBufBytes.of(lease.content()));
    } finally {
      lease.release();
    }
    assertFalse(store.remove(key(0)), "idempotent");
    assertEquals(0, host.usedBytes());
  }

  @Test
  void pins_hardNeverEvicted_softOnlyAfterUnpinned() throws StoreException {
    open(1 << 20, 0);
    assertTrue(put(0, -1, BLOCK));
    assertTrue(put(1, -1, BLOCK));
    assertTrue(store.pin(key(0), Pin.HARD));
    assertTrue(store.pin(key(1), Pin.SOFT));
    assertFalse(store.pin(key(99), Pin.HARD), "absent");
    for (int i = 2; i < 8; i++) {
      put(i, -1, BLOCK); // fills to the high mark: unpinned ones go first
    }
    assertTrue(store.contains(key(1)), "the soft pin outlived unpinned blocks");
    for (int i = 8; i < 40; i++) {
      put(i, -1, BLOCK);
    }
    assertTrue(store.contains(key(0)), "hard pinned: never evicted");
    assertEquals(Pin.HARD, store.entry(key(0)).pin());
    assertTrue(store.pin(key(0), Pin.NONE));
    for (int i = 40; i < 60; i++) {
      put(i, -1, BLOCK);
    }
    assertFalse(store.contains(key(0)), "unpinned, it ages out like the rest");
  }

  @Test
  void everythingHardPinned_putFailsWithNoSpace_notAHang() throws StoreException {
    open(512 << 10, 0); // 4 blocks, below the high mark with 3
    for (int i = 0; i < 3; i++) {
      assertTrue(put(i, -1, BLOCK));
      assertTrue(store.pin(key(i), Pin.HARD));
    }
    NoSpaceException e =
        assertThrows(NoSpaceException.class, () -> put(key(9), null, bytesOf(9, 2 * BLOCK)));
    assertTrue(e.everFits(), "it would fit an empty tier");
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(bytesOf(i, BLOCK), get(i));
    }
    assertFalse(store.contains(key(9)));
  }

  @Test
  void diskFull_coldestBlocksDropped_storeConsistent() throws StoreException {
    open(512 << 10, 2 << 20); // 4 blocks in RAM, 16 on disk
    for (int i = 0; i < 60; i++) {
      assertTrue(put(i, -1, BLOCK));
    }
    assertTrue(disk.usedBytes() <= disk.capacityBytes());
    int held = 0;
    for (int i = 0; i < 60; i++) {
      byte[] got = get(i);
      if (got != null) {
        assertArrayEquals(bytesOf(i, BLOCK), got);
        held++;
      }
    }
    assertTrue(held >= 12 && held <= 20, "about the two tiers' worth: " + held);
    assertTrue(store.stats().tiers().get(1).evictions() > 0);
  }

  @Test
  void containsPrefix_countsLeadingHeldBlocks() throws StoreException {
    open(4 << 20, 0);
    put(1, -1, 100);
    put(2, 1, 100);
    put(4, 3, 100); // block 3 missing
    assertEquals(2, store.containsPrefix(List.of(key(1), key(2), key(3), key(4))));
    assertEquals(0, store.containsPrefix(List.of(key(3), key(4))));
    assertEquals(0, store.containsPrefix(List.of()));
  }

  // ---- integrity and restarts --------------------------------------------------------------

  @Test
  void corruptDiskCopy_isAMissNeverWrongBytes_directoryCorrected() throws Exception {
    open(512 << 10, 64 << 20);
    for (int i = 0; i < 20; i++) {
      put(i, -1, BLOCK);
    }
    disk.flush();
    store.close();
    store = null;
    int flipped = Corruption.flipBitsInBlobFiles(dir.resolve("disk"), 50, 7);
    assertTrue(flipped > 0, "flipped bytes in blob files");
    open(512 << 10, 64 << 20);
    int served = 0;
    for (int i = 0; i < 20; i++) {
      byte[] got = get(i);
      if (got != null) {
        assertArrayEquals(bytesOf(i, BLOCK), got, "never a wrong byte: block " + i);
        served++;
      }
    }
    assertTrue(served < 20, "some blocks were corrupted and dropped");
    assertTrue(store.stats().tiers().get(1).readFailures() + disk.checksumFailures() > 0);
  }

  @Test
  void restart_ramOnlyEntriesGone_diskEntriesKeptWithParentsAndPins() throws StoreException {
    open(1 << 20, 64 << 20);
    for (int i = 0; i < 20; i++) {
      put(i, i == 0 ? -1 : i - 1, BLOCK);
    }
    store.pin(key(3), Pin.SOFT);
    List<Integer> onDisk = new ArrayList<>();
    List<Integer> ramOnly = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      DirectoryEntry e = store.entry(key(i));
      if (e.in(TierKind.DISK)) {
        onDisk.add(i);
      } else {
        ramOnly.add(i);
      }
    }
    assertFalse(ramOnly.isEmpty());
    assertFalse(onDisk.isEmpty());
    assertEquals(List.of(), store.verify());
    store.close();
    store = null;

    open(1 << 20, 64 << 20);
    for (int i : ramOnly) {
      assertNull(store.entry(key(i)), "RAM-only block " + i + " is gone after a restart");
    }
    for (int i : onDisk) {
      DirectoryEntry e = store.entry(key(i));
      assertNotNull(e, "disk block " + i);
      assertEquals(i == 0 ? null : key(i - 1).key(), e.parent(), "parent kept");
      assertArrayEquals(bytesOf(i, BLOCK), get(i));
    }
    if (onDisk.contains(3)) {
      assertEquals(Pin.SOFT, store.entry(key(3)).pin());
    }
  }

  @Test
  void restart_directoryLost_rebuiltFromTheDiskTier() throws Exception {
    open(512 << 10, 64 << 20);
    for (int i = 0; i < 20; i++) {
      put(i, -1, BLOCK);
    }
    long onDisk = disk.blockCount();
    store.close();
    store = null;
    Files.delete(dir.resolve("directory.cm3"));
    open(512 << 10, 64 << 20);
    assertEquals(onDisk, store.stats().directoryEntries());
    for (int i = 0; i < 20; i++) {
      byte[] got = get(i);
      if (got != null) {
        assertArrayEquals(bytesOf(i, BLOCK), got);
      }
    }
  }

  @Test
  void restart_diskLostBlocksTheDirectoryClaims_entriesCorrected() throws Exception {
    open(512 << 10, 64 << 20);
    for (int i = 0; i < 12; i++) {
      put(i, -1, BLOCK);
    }
    List<Integer> onDisk = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      if (store.entry(key(i)).in(TierKind.DISK)) {
        onDisk.add(i);
      }
    }
    assertTrue(onDisk.size() >= 4, "demoted: " + onDisk);
    store.close();
    store = null;
    // What a crash that lost the disk's last memtables looks like: blocks gone behind the
    // directory's back.
    try (DiskTier d = newDisk(64 << 20)) {
      assertTrue(d.remove(key(onDisk.get(0))));
      assertTrue(d.remove(key(onDisk.get(1))));
    }
    open(512 << 10, 64 << 20);
    assertNull(store.entry(key(onDisk.get(0))));
    assertNull(store.entry(key(onDisk.get(1))));
    assertNull(get(onDisk.get(0)));
    for (int i : onDisk.subList(2, onDisk.size())) {
      assertArrayEquals(bytesOf(i, BLOCK), get(i), "block " + i);
    }
  }

  // ---- concurrency -------------------------------------------------------------------------

  /**
   * A seeded simulation: 4 threads put, read, pin, unpin and delete blocks of a shared key space on
   * a store far smaller than it, with evictions, demotions and promotions on a real pool. Every
   * read returns the right bytes or a miss; afterwards the invariants hold.
   */
  @Test
  void concurrentMix_seeded_neverWrongBytes_invariantsHold() throws Exception {
    long seed = Long.getLong("kvhoard.store.seed", 42);
    ExecutorService background = Executors.newFixedThreadPool(2);
    host = newHost(1 << 20);
    disk = newDisk(4 << 20);
    store =
        TieredStore.newBuilder()
            .tier(host)
            .tier(disk)
            .directory(BlockDirectory.inMemory(10_000))
            .executor(background)
            .build();
    ExecutorService workers = Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long threadSeed = seed * 31 + t;
        results.add(
            workers.submit(
                () -> {
                  SplittableRandom r = new SplittableRandom(threadSeed);
                  int verified = 0;
                  for (int op = 0; op < 1500; op++) {
                    int n = r.nextInt(120);
                    int size = 1 + (n * 7919) % (3 * PAGE);
                    int what = r.nextInt(100);
                    if (what < 45) {
                      try {
                        put(key(n), n == 0 ? null : key(n - 1).key(), bytesOf(n, size));
                      } catch (NoSpaceException e) {
                        // everything leased at that instant: a clear refusal is allowed
                      }
                    } else if (what < 90) {
                      byte[] got = get(key(n));
                      if (got != null) {
                        assertArrayEquals(bytesOf(n, size), got, "block " + n);
                        verified++;
                      }
                    } else if (what < 95) {
                      store.pin(key(n), r.nextBoolean() ? Pin.SOFT : Pin.NONE);
                    } else {
                      store.remove(key(n));
                    }
                  }
                  return verified;
                }));
      }
      int verified = 0;
      for (var f : results) {
        verified += f.get(100, TimeUnit.SECONDS);
      }
      assertTrue(verified > 100, "reads hit and were checked: " + verified);
    } finally {
      workers.shutdown();
      assertTrue(workers.awaitTermination(30, TimeUnit.SECONDS));
      background.shutdown();
      assertTrue(background.awaitTermination(30, TimeUnit.SECONDS));
    }
    StoreStats s = store.stats();
    assertTrue(s.tiers().get(0).demotions() > 0, "demotions happened: " + s);
    assertTrue(s.tiers().get(0).promotions() > 0, "promotions happened: " + s);
  }

  /** Test helper: a buffer's readable bytes. */
  static final class ByteBufBytes {
    static byte[] of(ByteBuf b) {
      byte[] out = new byte[b.readableBytes()];
      b.getBytes(b.readerIndex(), out);
      return out;
    }
  }
}
