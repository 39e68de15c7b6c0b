package io.kvhoard.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Tier} contract, run against every implementation (as Netty's AbstractByteBufTest runs
 * against every buffer type). A subclass supplies a tier of about {@link #CAPACITY} bytes whose
 * allocation unit is {@link #unit()} and checks its own invariants after each test.
 */
public abstract class TierContractTest {
  protected static final long CAPACITY = 8L << 20;
  protected static final NamespaceId NS = NamespaceId.of(1, 2);

  protected Tier tier;

  /** A fresh tier with about {@link #CAPACITY} bytes. */
  protected abstract Tier newTier() throws StoreException;

  /** The tier's allocation unit: a block of that size uses exactly that much. */
  protected abstract int unit();

  /**
   * Whether a lease pins its block's space in the tier until released (true where the lease is a
   * view of the tier's own memory, as in the host tier); false where a lease holds a private copy,
   * so removal frees the space at once (the disk tier).
   */
  protected boolean leaseHoldsSpace() {
    return true;
  }

  /** Tier-specific invariants after each test, such as every lease released. */
  protected abstract void assertInvariants(Tier tier);

  @BeforeEach
  void open() throws StoreException {
    tier = newTier();
  }

  @AfterEach
  void closeAndCheck() throws StoreException {
    assertInvariants(tier);
    tier.close();
  }

  protected static StoreKey key(long n) {
    byte[] b = new byte[32];
    new SplittableRandom(n).nextBytes(b);
    return new StoreKey(NS, BlockKey.of(b));
  }

  /** The bytes stored under key n: derived from n so any reader can check them. */
  protected static byte[] bytesOf(long n, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(n * 31 + length).nextBytes(b);
    return b;
  }

  protected static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  protected boolean put(StoreKey key, byte[] data) throws StoreException {
    try (BlockWriter w = tier.reserve(key, data.length)) {
      ByteBuf src = Unpooled.wrappedBuffer(data);
      w.write(0, src).join();
      return w.commit(crc(data)).join();
    }
  }

  protected byte[] get(StoreKey key) {
    BlockLease lease = tier.read(key).join();
    if (lease == null) {
      return null;
    }
    try {
      ByteBuf dst = Unpooled.buffer((int) lease.length());
      lease.copyTo(dst).join();
      assertEquals(lease.length(), dst.readableBytes());
      byte[] out = new byte[dst.readableBytes()];
      dst.readBytes(out);
      assertEquals(crc(out), lease.crc32c(), "stored CRC32C matches the bytes");
      return out;
    } finally {
      lease.release();
    }
  }

  @Test
  void forEachBlock_visitsEveryCommittedBlockOnce_notReservedOrRemoved() throws StoreException {
    byte[] a = bytesOf(1, 1000);
    byte[] b = bytesOf(2, unit() + 3);
    assertTrue(put(key(1), a));
    assertTrue(put(key(2), b));
    assertTrue(put(key(3), bytesOf(3, 10)));
    assertTrue(tier.remove(key(3)));
    try (BlockWriter open = tier.reserve(key(4), 100)) {
      java.util.Map<StoreKey, long[]> seen = new java.util.HashMap<>();
      tier.forEachBlock(
          (k, length, crc32c) ->
              assertNull(seen.put(k, new long[] {length, crc32c}), "visited twice: " + k));
      assertEquals(2, seen.size(), "only the committed, not removed blocks: " + seen.keySet());
      assertArrayEquals(new long[] {a.length, crc(a)}, seen.get(key(1)));
      assertArrayEquals(new long[] {b.length, crc(b)}, seen.get(key(2)));
      assertNotNull(open);
    }
  }

  @Test
  void leased_trueOnlyWhileALeaseHoldsTheTiersMemory() throws StoreException {
    assertFalse(tier.leased(key(1)), "absent key");
    assertTrue(put(key(1), bytesOf(1, 5000)));
    assertFalse(tier.leased(key(1)), "committed, no lease");
    BlockLease lease = tier.read(key(1)).join();
    try {
      assertEquals(leaseHoldsSpace(), tier.leased(key(1)));
    } finally {
      lease.release();
    }
    assertFalse(tier.leased(key(1)), "after release");
  }

  @Test
  void put_variousSizes_readBackBitExact() throws StoreException {
    int u = unit();
    int[] sizes = {1, 7, u - 1, u, u + 1, 3 * u + 5};
    for (int i = 0; i < sizes.length; i++) {
      byte[] data = bytesOf(i, sizes[i]);
      assertTrue(put(key(i), data));
    }
    for (int i = 0; i < sizes.length; i++) {
      assertArrayEquals(bytesOf(i, sizes[i]), get(key(i)), "size " + sizes[i]);
    }
    assertEquals(sizes.length, tier.blockCount());
  }

  @Test
  void put_inSeveralWrites_assembledInOrder() throws StoreException {
    byte[] data = bytesOf(5, 2 * unit() + 100);
    try (BlockWriter w = tier.reserve(key(5), data.length)) {
      int half = data.length / 2 + 3;
      w.write(half, Unpooled.wrappedBuffer(data, half, data.length - half)).join();
      w.write(0, Unpooled.wrappedBuffer(data, 0, half)).join();
      assertTrue(w.commit(crc(data)).join());
    }
    assertArrayEquals(data, get(key(5)));
  }

  @Test
  void reserve_beforeCommit_invisibleToReaders() throws StoreException {
    byte[] data = bytesOf(1, 1000);
    try (BlockWriter w = tier.reserve(key(1), data.length)) {
      w.write(0, Unpooled.wrappedBuffer(data)).join();
      assertFalse(tier.contains(key(1)));
      assertNull(tier.read(key(1)).join());
      assertTrue(w.commit(crc(data)).join());
      assertTrue(tier.contains(key(1)));
    }
  }

  @Test
  void close_withoutCommit_abortsAndFreesSpace() throws StoreException {
    long before = tier.usedBytes();
    try (BlockWriter w = tier.reserve(key(1), 3L * unit())) {
      assertTrue(tier.usedBytes() >= before + 3L * unit(), "reservation holds space");
      w.write(0, Unpooled.wrappedBuffer(new byte[10])).join();
    }
    assertEquals(before, tier.usedBytes());
    assertFalse(tier.contains(key(1)));
  }

  @Test
  void commit_sameKeyTwice_firstWriterWins() throws StoreException {
    byte[] first = bytesOf(1, 4000);
    byte[] second = bytesOf(2, 4000);
    assertTrue(put(key(9), first));
    long used = tier.usedBytes();
    assertFalse(put(key(9), second), "a second commit of the key reports false");
    assertArrayEquals(first, get(key(9)));
    assertEquals(used, tier.usedBytes(), "the loser's space is freed");
  }

  @Test
  void commit_concurrentWritersOfOneKey_neverMixed() throws StoreException {
    byte[] a = bytesOf(1, unit() + 10);
    byte[] b = bytesOf(2, unit() + 10);
    BlockWriter wa = tier.reserve(key(3), a.length);
    BlockWriter wb = tier.reserve(key(3), b.length);
    wa.write(0, Unpooled.wrappedBuffer(a, 0, 100)).join();
    wb.write(0, Unpooled.wrappedBuffer(b)).join();
    wa.write(100, Unpooled.wrappedBuffer(a, 100, a.length - 100)).join();
    assertTrue(wb.commit(crc(b)).join());
    assertFalse(wa.commit(crc(a)).join());
    wa.close();
    wb.close();
    assertArrayEquals(b, get(key(3)));
  }

  @Test
  void remove_absentOrTwice_returnsFalse() throws StoreException {
    assertFalse(tier.remove(key(1)));
    assertTrue(put(key(1), bytesOf(1, 10)));
    assertTrue(tier.remove(key(1)));
    assertFalse(tier.remove(key(1)));
    assertNull(tier.read(key(1)).join());
  }

  @Test
  void remove_whileLeased_bytesStayUntilRelease() throws StoreException {
    byte[] data = bytesOf(4, 2 * unit());
    assertTrue(put(key(4), data));
    BlockLease lease = tier.read(key(4)).join();
    assertNotNull(lease);
    long usedBeforeRemove = tier.usedBytes();
    assertTrue(tier.remove(key(4)));
    if (!leaseHoldsSpace()) {
      assertTrue(
          tier.usedBytes() <= usedBeforeRemove - data.length, "a copied lease frees at removal");
    }
    assertFalse(tier.contains(key(4)));
    assertNull(tier.read(key(4)).join(), "new readers miss at once");
    // Reuse the space as hard as possible: the leased bytes must not change.
    for (int i = 100; i < 120; i++) {
      try {
        put(key(i), bytesOf(i, unit()));
      } catch (NoSpaceException e) {
        break;
      }
    }
    ByteBuf dst = Unpooled.buffer(data.length);
    lease.copyTo(dst).join();
    assertArrayEquals(data, readAll(dst));
    long usedWithLease = tier.usedBytes();
    lease.release();
    if (leaseHoldsSpace()) {
      assertTrue(tier.usedBytes() <= usedWithLease - data.length, "space freed at last release");
    }
  }

  @Test
  void reserve_moreThanFree_noSpaceThatCouldFitLater() throws StoreException {
    long cap = tier.capacityBytes();
    assertTrue(put(key(1), bytesOf(1, (int) (cap / 2))));
    NoSpaceException e =
        assertThrows(NoSpaceException.class, () -> tier.reserve(key(2), cap / 2 + unit()));
    assertTrue(e.everFits());
    assertTrue(e.getMessage().contains("no room"), e.getMessage());
  }

  @Test
  void reserve_largerThanTier_noSpaceThatNeverFits() {
    long cap = tier.capacityBytes();
    NoSpaceException e = assertThrows(NoSpaceException.class, () -> tier.reserve(key(2), cap + 1));
    assertFalse(e.everFits());
    assertTrue(e.getMessage().contains("larger than the tier's whole capacity"), e.getMessage());
  }

  @Test
  void reserve_zeroOrNegativeLength_rejected() {
    assertThrows(IllegalArgumentException.class, () -> tier.reserve(key(1), 0));
    assertThrows(IllegalArgumentException.class, () -> tier.reserve(key(1), -5));
  }

  @Test
  void write_outsideBlock_failsAndBlockStaysInvisible() throws StoreException {
    try (BlockWriter w = tier.reserve(key(1), 100)) {
      CompletionException e =
          assertThrows(
              CompletionException.class,
              () -> w.write(90, Unpooled.wrappedBuffer(new byte[20])).join());
      assertInstanceOf(IndexOutOfBoundsException.class, e.getCause());
    }
    assertFalse(tier.contains(key(1)));
  }

  @Test
  void sameKeyOtherNamespace_distinctBlocks() throws StoreException {
    StoreKey a = key(1);
    StoreKey b = new StoreKey(NamespaceId.of(9, 9), a.key());
    assertTrue(put(a, bytesOf(1, 100)));
    assertTrue(put(b, bytesOf(2, 100)));
    assertArrayEquals(bytesOf(1, 100), get(a));
    assertArrayEquals(bytesOf(2, 100), get(b));
  }

  @Test
  void close_twice_noOp() throws StoreException {
    put(key(1), bytesOf(1, 10));
    tier.close();
    tier.close();
    assertThrows(IllegalStateException.class, () -> tier.reserve(key(2), 10));
  }

  /**
   * Seeded stress: 4 threads put, read and remove keys from a small key space; every block read
   * must be exactly the bytes of its key (derived from the key), never a partial or mixed block.
   */
  @Test
  void concurrentPutReadRemove_everyReadBitExact() throws Exception {
    int threads = 4;
    int keys = 64;
    int size = unit() + 123;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long seed = t;
        results.add(
            pool.submit(
                () -> {
                  SplittableRandom r = new SplittableRandom(seed);
                  int verified = 0;
                  for (int i = 0; i < 2_000; i++) {
                    int k = r.nextInt(keys);
                    int op = r.nextInt(10);
                    if (op < 4) {
                      try {
                        put(key(k), bytesOf(k, size));
                      } catch (NoSpaceException e) {
                        tier.remove(key(r.nextInt(keys)));
                      }
                    } else if (op < 9) {
                      byte[] got = get(key(k));
                      if (got != null) {
                        assertArrayEquals(bytesOf(k, size), got);
                        verified++;
                      }
                    } else {
                      tier.remove(key(k));
                    }
                  }
                  return verified;
                }));
      }
      int verified = 0;
      for (Future<Integer> f : results) {
        verified += f.get(60, TimeUnit.SECONDS);
      }
      assertTrue(verified > 100, "the stress read back some blocks: " + verified);
    } finally {
      pool.shutdownNow();
    }
    long count = 0;
    for (int k = 0; k < keys; k++) {
      if (tier.contains(key(k))) {
        count++;
        assertArrayEquals(bytesOf(k, size), get(key(k)));
      }
    }
    assertEquals(count, tier.blockCount());
  }

  protected static byte[] readAll(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }
}
