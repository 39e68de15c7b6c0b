package io.kvhoard.server.store;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.directory.DirectoryEntry;
import io.kvhoard.server.store.eviction.EvictionPolicy;
import io.kvhoard.server.store.eviction.PrefixAwareLru;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;

/**
 * The tiered block store: tiers ordered hottest first (host RAM, then NVMe; device memory later), a
 * {@link BlockDirectory} that says which tiers hold each block, and one eviction policy per tier.
 *
 * <h2>What it does</h2>
 *
 * <ul>
 *   <li><b>Two-phase put.</b> {@link #reserve} takes space in the hottest tier (evicting if it
 *       must, falling through to a colder tier if nothing there can go), the writer fills it, and
 *       its commit publishes the block in the tier and then in the directory; readers look blocks
 *       up in the directory, so nothing is visible before the commit.
 *   <li><b>First writer wins, store-wide.</b> A put of a key the store holds writes nothing and
 *       commits {@code false}; a commit whose bytes (length and CRC32C) differ from a copy already
 *       held in another tier is rejected and counted. Two different blocks never hide under one key
 *       in different tiers.
 *   <li><b>Reads</b> take a lease from the hottest tier holding the block; a tier that fails or
 *       drops the block (checksum) is skipped and the next is tried. A hit in a colder tier
 *       <b>promotes</b> a copy into the host tier in the background (the colder copy stays).
 *   <li><b>Eviction.</b> After a commit takes a tier above its high watermark, a background task
 *       evicts down to the low watermark; a reservation that does not fit evicts just enough at
 *       once. Victims come from the tier's policy (default {@link PrefixAwareLru}: leaves before
 *       their ancestors), skipping blocks that are leased (their memory would not come free) and
 *       pinned ones: {@link Pin#SOFT} blocks go only when nothing else can, {@link Pin#HARD} ones
 *       never. An evicted block is <b>demoted</b>, copied to the next colder tier, unless it is
 *       already there; from the coldest tier it is dropped.
 *   <li><b>Restart.</b> At build the directory is reconciled with the tiers: bits of tiers that no
 *       longer hold a block (host RAM after a restart, disk blocks lost in a crash) are cleared,
 *       blocks the tiers hold without an entry are added (parent unknown), and the policies are
 *       seeded in order of last access.
 * </ul>
 *
 * <h2>Concurrency</h2>
 *
 * <p>Thread-safe. Changes to a key's directory entry and to the policies' residents happen together
 * under the key's stripe lock (a read's recency is a hint, buffered to the policy without the
 * stripe lock); the directory is the store's truth for readers, a tier's copy exists before its
 * directory bit and is removed after. Copies between tiers run without the stripe lock and are
 * published only if the entry still exists, so a delete that races a promotion or demotion wins.
 * Lock order: a tier's evict lock, then a colder tier's evict lock; stripe locks are innermost
 * except for the policy and directory locks they take. {@link #verify()} checks the invariant
 * (directory, tiers and policies agree) when the store is quiet.
 *
 * <p>Eviction and promotion run on the executor given to the builder: it must not be the disk
 * tier's own I/O executor unless that has spare threads (an eviction waits for the disk write of
 * its demotion).
 */
public final class TieredStore implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TieredStore.class.getName());
  private static final int STRIPES = 1024;

  /** The directory's last-access times are kept to this precision (they order restarts). */
  private static final long LAST_ACCESS_GRANULARITY_MS = 1000;

  private final List<TierState> levels;
  private final TierState promoteTo; // the host tier, or null
  private final BlockDirectory directory;
  private final Clock clock;
  private final Executor executor;
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final Map<StoreKey, Boolean> promoting = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder duplicatePuts = new LongAdder();
  private final LongAdder conflictingPuts = new LongAdder();
  private final LongAdder deletes = new LongAdder();

  private TieredStore(Builder b, List<TierState> levels) {
    this.levels = List.copyOf(levels);
    this.directory = b.directory;
    this.clock = b.clock;
    this.executor = b.executor;
    TierState host = null;
    for (TierState lv : levels) {
      if (lv.kind == TierKind.HOST) {
        host = lv;
      }
    }
    this.promoteTo = host;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /** A builder: at least one tier, a directory and an executor are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  // ---- put ----------------------------------------------------------------------------------

  /**
   * Phase one of a put: reserves room for a block of {@code length} bytes under {@code key} in the
   * hottest tier that can take it. Nothing is visible until the writer commits; its commit
   * completes {@code true} if the store did not hold the block before.
   *
   * @param parent the key of the block before it in its prompt (same namespace), or {@code null}
   *     for a prompt's first block
   * @param tokens the tokens the block covers: a full block, or fewer for a partial last block
   * @throws NoSpaceException if no tier can take it, even after eviction ({@link
   *     NoSpaceException#everFits()} false if it is larger than every tier)
   * @throws IllegalArgumentException if {@code length} or {@code tokens} is below 1, or the block
   *     is its own parent
   */
  public BlockWriter reserve(StoreKey key, BlockKey parent, int tokens, long length)
      throws StoreException {
    Objects.requireNonNull(key, "key");
    if (length < 1) {
      throw new IllegalArgumentException("a block is at least 1 byte long, got " + length);
    }
    if (tokens < 1) {
      throw new IllegalArgumentException("a block covers at least 1 token, got " + tokens);
    }
    if (key.key().equals(parent)) {
      throw new IllegalArgumentException("block " + key + " cannot be its own parent");
    }
    checkOpen();
    if (directory.containsKey(key)) {
      return new HeldWriter(key, length);
    }
    NoSpaceException first = null;
    for (TierState lv : levels) {
      if (lv.kind == TierKind.GPU) {
        continue; // device memory is filled by the engine's own path, not by network puts
      }
      try {
        return new StoreWriter(lv, reserveIn(lv, key, length), parent, tokens);
      } catch (NoSpaceException e) {
        if (first == null || (!first.everFits() && e.everFits())) {
          first = e;
        }
      }
    }
    if (first == null) {
      throw new IllegalStateException("the store has no tier that takes puts");
    }
    throw first;
  }

  /** Reserves in one tier, evicting just enough there first if the tier is full. */
  private BlockWriter reserveIn(TierState lv, StoreKey key, long length) throws StoreException {
    try {
      return lv.tier.reserve(key, length);
    } catch (NoSpaceException e) {
      if (!e.everFits()) {
        throw e;
      }
      evict(lv, lv.tier.capacityBytes() - length);
      queueEviction(lv);
      return lv.tier.reserve(key, length);
    }
  }

  /** Publishes a block a tier has just committed; false if the store already held it. */
  private boolean publishPut(
      TierState lv, StoreKey key, long length, int crc32c, BlockKey parent, int tokens)
      throws StoreException {
    DirectoryEntry[] prior = new DirectoryEntry[1];
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      long now = clock.millis();
      try {
        directory.update(
            key,
            e -> {
              prior[0] = e;
              if (e == null) {
                return DirectoryEntry.committed(lv.kind, length, crc32c, parent, tokens, now);
              }
              return e.sameBytes(length, crc32c) ? e.with(lv.kind).accessedAt(now) : e;
            });
      } catch (StoreException full) {
        removeQuietly(lv, key);
        throw full;
      }
      DirectoryEntry p = prior[0];
      if (p != null && !p.sameBytes(length, crc32c)) {
        removeQuietly(lv, key);
        conflictingPuts.increment();
        LOG.log(
            Level.WARNING,
            "put of "
                + key
                + " rejected: the store holds other bytes under that key ("
                + p.length()
                + " bytes, CRC32C "
                + Integer.toHexString(p.crc32c())
                + "); the first writer wins");
        return false;
      }
      if (p == null || !p.in(lv.kind)) {
        lv.inserted(key, parentOf(key, parent), tokens);
      } else {
        lv.accessed(key);
      }
      if (p == null) {
        puts.increment();
      } else {
        duplicatePuts.increment();
      }
    } finally {
      stripe.unlock();
    }
    queueEviction(lv);
    return prior[0] == null;
  }

  // ---- read ---------------------------------------------------------------------------------

  /**
   * Leases the block under {@code key} from the hottest tier holding it; completes with {@code
   * null} on a miss. The caller releases the lease. A hit in a colder tier promotes a copy into the
   * host tier in the background.
   */
  public CompletableFuture<BlockLease> read(StoreKey key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    DirectoryEntry e = directory.get(key);
    if (e == null) {
      misses.increment();
      return CompletableFuture.completedFuture(null);
    }
    return readFrom(key, e, 0);
  }

  private CompletableFuture<BlockLease> readFrom(StoreKey key, DirectoryEntry e, int from) {
    for (int i = from; i < levels.size(); i++) {
      TierState lv = levels.get(i);
      if (!e.in(lv.kind)) {
        continue;
      }
      int next = i + 1;
      CompletableFuture<BlockLease> attempt;
      try {
        attempt = lv.tier.read(key);
      } catch (RuntimeException failed) {
        attempt = CompletableFuture.failedFuture(failed);
      }
      return attempt
          .handle(
              (lease, err) -> {
                if (err != null || lease == null) {
                  if (err != null) {
                    lv.readFailures.increment();
                    LOG.log(Level.WARNING, "read of " + key + " from " + lv + " failed: " + err);
                  }
                  dropIfGone(lv, key);
                  return readFrom(key, e, next);
                }
                hit(lv, key, lease, e);
                return CompletableFuture.completedFuture(lease);
              })
          .thenCompose(f -> f);
    }
    misses.increment();
    return CompletableFuture.completedFuture(null);
  }

  private void hit(TierState lv, StoreKey key, BlockLease lease, DirectoryEntry e) {
    lv.hits.increment();
    // Reads take no stripe lock: recency goes to the policy through a buffer (a hint; a block
    // evicted meanwhile is skipped), and the directory's last access is rewritten at most once a
    // second per block, so a hot block does not serialise its readers on a map write.
    long now = clock.millis();
    DirectoryEntry cur = e;
    if (now - e.lastAccessMillis() >= LAST_ACCESS_GRANULARITY_MS) {
      try {
        cur = directory.update(key, x -> x == null ? null : x.accessedAt(now));
      } catch (StoreException cannotHappen) {
        cur = null; // an update of an existing entry does not grow the map
      }
    }
    lv.accessed(key);
    if (cur != null
        && promoteTo != null
        && promoteTo.index < lv.index
        && !cur.in(promoteTo.kind)
        && promoting.putIfAbsent(key, Boolean.TRUE) == null) {
      lease.retain();
      try {
        executor.execute(
            () -> {
              try {
                promote(key, lease);
              } finally {
                promoting.remove(key);
                lease.release();
              }
            });
      } catch (RejectedExecutionException rejected) {
        promoting.remove(key);
        lease.release();
      }
    }
  }

  /** Copies a block read from a colder tier into the host tier. */
  private void promote(StoreKey key, BlockLease lease) {
    if (closed) {
      return;
    }
    try (BlockWriter w = reserveIn(promoteTo, key, lease.length())) {
      copy(lease, w);
      if (w.commit(lease.crc32c()).join() && publishCopy(promoteTo, key)) {
        promoteTo.promotions.increment();
      }
    } catch (NoSpaceException full) {
      // Everything in the host tier is pinned or leased: serve it from where it is.
    } catch (StoreException | RuntimeException e) {
      LOG.log(Level.WARNING, "promotion of " + key + " to " + promoteTo + " failed: " + e);
    }
  }

  /**
   * Whether a block is held (in any tier). A hint for lookups: it may be evicted a moment later.
   */
  public boolean contains(StoreKey key) {
    return directory.containsKey(key);
  }

  /**
   * How many of {@code keys}, a prompt's block keys in order, are held from the first on: the
   * length of the cached prefix in blocks.
   */
  public int containsPrefix(List<StoreKey> keys) {
    int n = 0;
    for (StoreKey k : keys) {
      if (!directory.containsKey(k)) {
        break;
      }
      n++;
    }
    return n;
  }

  /** The directory's entry for {@code key}, or {@code null}: tiers, size, checksum, pin. */
  public DirectoryEntry entry(StoreKey key) {
    return directory.get(key);
  }

  // ---- delete and pins ----------------------------------------------------------------------

  /**
   * Removes a block from every tier; outstanding leases keep their bytes until released.
   *
   * @return {@code false} if the store did not hold it
   * @throws StoreException if a tier failed to remove it (the directory entry is gone anyway)
   */
  public boolean remove(StoreKey key) throws StoreException {
    Objects.requireNonNull(key, "key");
    checkOpen();
    StoreException failed = null;
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      DirectoryEntry e = directory.remove(key);
      if (e == null) {
        return false;
      }
      for (TierState lv : levels) {
        if (e.in(lv.kind)) {
          lv.removed(key);
          try {
            lv.tier.remove(key);
          } catch (StoreException ex) {
            failed = ex;
          }
        }
      }
    } finally {
      stripe.unlock();
    }
    deletes.increment();
    if (failed != null) {
      throw failed;
    }
    return true;
  }

  /**
   * Sets how strongly a held block is kept ({@link Pin#NONE} unpins).
   *
   * @return {@code false} if the store does not hold it
   */
  public boolean pin(StoreKey key, Pin pin) {
    Objects.requireNonNull(pin, "pin");
    try {
      return directory.update(key, e -> e == null ? null : e.withPin(pin)) != null;
    } catch (StoreException cannotHappen) {
      return false; // an update of an existing entry does not grow the map
    }
  }

  // ---- eviction and demotion ----------------------------------------------------------------

  /** Queues a background eviction to the low watermark if the tier is above its high one. */
  private void queueEviction(TierState lv) {
    if (closed || !lv.aboveHigh() || !lv.evictionQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(
          () -> {
            try {
              evict(lv, lv.lowBytes);
            } finally {
              lv.evictionQueued.set(false);
            }
          });
    } catch (RejectedExecutionException e) {
      lv.evictionQueued.set(false);
    }
  }

  /** Evicts from {@code lv} until it uses at most {@code targetUsed} bytes or nothing can go. */
  private void evict(TierState lv, long targetUsed) {
    lv.evictLock.lock();
    try {
      while (!closed && lv.tier.usedBytes() > targetUsed) {
        StoreKey victim =
            lv.victim(k -> evictable(lv, k, Pin.NONE), k -> evictable(lv, k, Pin.SOFT));
        if (victim == null) {
          return; // everything left is pinned or leased
        }
        demoteOrDrop(lv, victim);
      }
    } finally {
      lv.evictLock.unlock();
    }
  }

  private boolean evictable(TierState lv, StoreKey key, Pin atMost) {
    if (lv.tier.leased(key)) {
      return false;
    }
    DirectoryEntry e = directory.get(key);
    return e == null || e.pin().ordinal() <= atMost.ordinal();
  }

  /** Moves a victim out of {@code lv}: copies it to the next colder tier, then drops it here. */
  private void demoteOrDrop(TierState lv, StoreKey key) {
    boolean demoted = false;
    TierState below = lv.index + 1 < levels.size() ? levels.get(lv.index + 1) : null;
    DirectoryEntry e = directory.get(key);
    if (below != null && e != null && e.in(lv.kind)) {
      demoted = e.in(below.kind) || copyDown(lv, below, key);
    }
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      if (clearBit(lv, key)) {
        removeQuietly(lv, key);
        lv.evictions.increment();
        if (demoted) {
          lv.demotions.increment();
        }
      }
    } finally {
      stripe.unlock();
    }
  }

  private boolean copyDown(TierState from, TierState to, StoreKey key) {
    BlockLease lease;
    try {
      lease = from.tier.read(key).join();
    } catch (RuntimeException e) {
      return false;
    }
    if (lease == null) {
      return false;
    }
    try (BlockWriter w = reserveIn(to, key, lease.length())) {
      copy(lease, w);
      boolean created = w.commit(lease.crc32c()).join();
      return created ? publishCopy(to, key) : to.tier.contains(key);
    } catch (NoSpaceException full) {
      return false; // the colder tier is full of pinned blocks: the block is dropped
    } catch (StoreException | RuntimeException e) {
      LOG.log(
          Level.WARNING, "demotion of " + key + " from " + from + " to " + to + " failed: " + e);
      return false;
    } finally {
      lease.release();
    }
  }

  /**
   * Publishes a copy a tier committed by promotion or demotion, if the block is still in the
   * directory (a delete meanwhile wins: the copy is removed).
   */
  private boolean publishCopy(TierState lv, StoreKey key) {
    DirectoryEntry[] prior = new DirectoryEntry[1];
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      DirectoryEntry now =
          directory.update(
              key,
              x -> {
                prior[0] = x;
                return x == null ? null : x.with(lv.kind);
              });
      if (now == null) {
        removeQuietly(lv, key);
        return false;
      }
      if (!prior[0].in(lv.kind)) {
        lv.inserted(key, parentOf(key, now.parent()), now.tokens());
      }
    } catch (StoreException cannotHappen) {
      return false; // an update of an existing entry does not grow the map
    } finally {
      stripe.unlock();
    }
    queueEviction(lv);
    return true;
  }

  /** If a tier no longer holds a block its directory bit claims, clears the bit. */
  private void dropIfGone(TierState lv, StoreKey key) {
    if (lv.tier.contains(key)) {
      return;
    }
    ReentrantLock stripe = stripe(key);
    stripe.lock();
    try {
      if (lv.tier.contains(key)) {
        return;
      }
      clearBit(lv, key);
    } finally {
      stripe.unlock();
    }
  }

  /**
   * Clears {@code lv}'s bit in the key's entry (removing an entry left in no tier) and, if it was
   * set, tells the tier's policy. Caller holds the key's stripe.
   *
   * @return whether the bit was set
   */
  private boolean clearBit(TierState lv, StoreKey key) {
    DirectoryEntry[] prior = new DirectoryEntry[1];
    try {
      directory.update(
          key,
          x -> {
            prior[0] = x;
            if (x == null) {
              return null;
            }
            DirectoryEntry rest = x.without(lv.kind);
            return rest.nowhere() ? null : rest;
          });
    } catch (StoreException cannotHappen) {
      return false; // clearing a bit does not grow the map
    }
    if (prior[0] != null && prior[0].in(lv.kind)) {
      lv.removed(key);
      return true;
    }
    return false;
  }

  private static void copy(BlockLease lease, BlockWriter w) {
    ByteBuf content;
    try {
      content = lease.content();
    } catch (UnsupportedOperationException deviceMemory) {
      ByteBuf staging = Unpooled.directBuffer((int) lease.length());
      try {
        lease.copyTo(staging).join();
        w.write(0, staging).join();
      } finally {
        staging.release();
      }
      return;
    }
    w.write(0, content).join();
  }

  private void removeQuietly(TierState lv, StoreKey key) {
    try {
      lv.tier.remove(key);
    } catch (StoreException | RuntimeException e) {
      LOG.log(Level.WARNING, "could not remove " + key + " from " + lv + ": " + e);
    }
  }

  // ---- state --------------------------------------------------------------------------------

  /** The counters and occupancy now. */
  public StoreStats stats() {
    List<StoreStats.TierStats> tiers = new ArrayList<>();
    for (TierState lv : levels) {
      tiers.add(
          new StoreStats.TierStats(
              lv.kind,
              lv.tier.capacityBytes(),
              lv.tier.usedBytes(),
              lv.tier.blockCount(),
              lv.hits.sum(),
              lv.evictions.sum(),
              lv.demotions.sum(),
              lv.promotions.sum(),
              lv.readFailures.sum()));
    }
    return new StoreStats(
        tiers,
        misses.sum(),
        puts.sum(),
        duplicatePuts.sum(),
        conflictingPuts.sum(),
        deletes.sum(),
        directory.size(),
        directory.offHeapBytes());
  }

  /** The tiers, hottest first. */
  public List<Tier> tiers() {
    List<Tier> out = new ArrayList<>();
    for (TierState lv : levels) {
      out.add(lv.tier);
    }
    return out;
  }

  /**
   * Checks that the directory, the tiers and the eviction policies agree: every entry's tier bits
   * are exactly the tiers holding the block, and each tier's block count and policy size equal the
   * entries with its bit. Walks everything: for tests and diagnostics of a quiet store.
   *
   * @return the disagreements found, empty if none
   */
  public List<String> verify() {
    List<String> problems = new ArrayList<>();
    long[] counts = new long[TierKind.values().length];
    EnumSet<TierKind> configured = EnumSet.noneOf(TierKind.class);
    for (TierState lv : levels) {
      configured.add(lv.kind);
    }
    directory.forEach(
        (k, e) -> {
          if (e.nowhere()) {
            problems.add(k + ": entry in no tier");
          }
          for (TierKind kind : TierKind.values()) {
            if (e.in(kind)) {
              counts[kind.ordinal()]++;
              if (!configured.contains(kind)) {
                problems.add(k + ": entry claims the unconfigured " + kind + " tier");
              }
            }
          }
          for (TierState lv : levels) {
            if (e.in(lv.kind) != lv.tier.contains(k)) {
              problems.add(
                  k + ": directory says " + lv.kind + "=" + e.in(lv.kind) + ", the tier disagrees");
            }
          }
        });
    for (TierState lv : levels) {
      long n = counts[lv.kind.ordinal()];
      if (lv.tier.blockCount() != n) {
        problems.add(lv + " holds " + lv.tier.blockCount() + " blocks, the directory " + n);
      }
      if (lv.policySize() != n) {
        problems.add(lv + " policy tracks " + lv.policySize() + " blocks, the directory " + n);
      }
    }
    return problems;
  }

  /**
   * Waits for queued evictions and promotions that already started, then closes the tiers hottest
   * first and the directory last, each even if another fails.
   *
   * @throws StoreException the first failure (the others are suppressed into it)
   */
  @Override
  public void close() throws StoreException {
    if (closed) {
      return;
    }
    closed = true;
    StoreException failure = null;
    for (TierState lv : levels) {
      lv.evictLock.lock(); // a running eviction sees `closed` and stops between blocks
      try {
        lv.tier.close();
      } catch (StoreException | RuntimeException e) {
        StoreException se =
            e instanceof StoreException s
                ? s
                : new StoreException("closing the " + lv + " failed: " + e.getMessage(), e);
        if (failure == null) {
          failure = se;
        } else {
          failure.addSuppressed(se);
        }
      } finally {
        lv.evictLock.unlock();
      }
    }
    try {
      directory.close();
    } catch (RuntimeException e) {
      StoreException se = new StoreException("closing the block directory failed", e);
      if (failure == null) {
        failure = se;
      } else {
        failure.addSuppressed(se);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the tiered store is closed");
    }
  }

  private ReentrantLock stripe(StoreKey key) {
    return stripes[(key.hashCode() & 0x7fffffff) % STRIPES];
  }

  private static StoreKey parentOf(StoreKey key, BlockKey parent) {
    return parent == null ? null : new StoreKey(key.namespace(), parent);
  }

  // ---- writers ------------------------------------------------------------------------------

  /** A reservation in one tier; its commit publishes in the directory. */
  private final class StoreWriter implements BlockWriter {
    private final TierState lv;
    private final BlockWriter inner;
    private final BlockKey parent;
    private final int tokens;

    StoreWriter(TierState lv, BlockWriter inner, BlockKey parent, int tokens) {
      this.lv = lv;
      this.inner = inner;
      this.parent = parent;
      this.tokens = tokens;
    }

    @Override
    public StoreKey key() {
      return inner.key();
    }

    @Override
    public long length() {
      return inner.length();
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf src) {
      return inner.write(offset, src);
    }

    @Override
    public CompletableFuture<Boolean> commit(int crc32c) {
      return inner
          .commit(crc32c)
          .thenApply(
              created -> {
                if (!created) {
                  duplicatePuts.increment();
                  return false;
                }
                try {
                  return publishPut(lv, key(), length(), crc32c, parent, tokens);
                } catch (StoreException e) {
                  throw new CompletionException(e);
                }
              });
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /**
   * The writer of a put whose key the store already holds: takes the bytes and drops them; its
   * commit reports {@code false} (first writer wins) and counts a conflict if the bytes differ.
   */
  private final class HeldWriter extends AbstractBlockWriter {
    private boolean open = true;

    HeldWriter(StoreKey key, long length) {
      super(key, length);
    }

    @Override
    protected boolean isOpen() {
      return open;
    }

    @Override
    protected CompletableFuture<Void> writeChecked(long offset, ByteBuf src, int n) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> commit(int crc32c) {
      if (!open) {
        return notOpen();
      }
      open = false;
      DirectoryEntry e = directory.get(key());
      if (e != null && !e.sameBytes(length(), crc32c)) {
        conflictingPuts.increment();
      } else {
        duplicatePuts.increment();
      }
      return CompletableFuture.completedFuture(false);
    }

    @Override
    public void close() {
      open = false;
    }
  }

  // ---- builder ------------------------------------------------------------------------------

  /** Configures a {@link TieredStore}; validates eagerly. */
  public static final class Builder {
    private final List<Tier> tiers = new ArrayList<>();
    private BlockDirectory directory;
    private Executor executor;
    private Clock clock = Clock.systemUTC();
    private double high = 0.95;
    private double low = 0.85;
    private int blockTokens = 16;
    private long typicalBlockBytes = 2L << 20;
    private LongFunction<EvictionPolicy<StoreKey>> policy;

    private Builder() {}

    /**
     * Adds a tier; call hottest first (GPU, host, disk), one per kind. The store owns it from
     * {@link #build()} on and closes it.
     */
    public Builder tier(Tier tier) {
      Objects.requireNonNull(tier, "tier");
      if (!tiers.isEmpty()
          && tiers.get(tiers.size() - 1).kind().ordinal() >= tier.kind().ordinal()) {
        throw new IllegalArgumentException(
            "tiers go hottest first, one per kind: " + tier.kind() + " after " + kinds());
      }
      tiers.add(tier);
      return this;
    }

    /** The block directory (required); the store owns and closes it. */
    public Builder directory(BlockDirectory directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * Runs background evictions, demotions and promotions (required). Not the disk tier's I/O
     * executor unless that has spare threads.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** The clock of last-access times (default: the system clock, UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Start evicting from a tier when its use passes {@code high} of its capacity, stop at {@code
     * low} (defaults 0.95 and 0.85).
     */
    public Builder watermarks(double high, double low) {
      if (!(low > 0 && low < high && high <= 1)) {
        throw new IllegalArgumentException(
            "watermarks need 0 < low < high <= 1, got high=" + high + " low=" + low);
      }
      this.high = high;
      this.low = low;
      return this;
    }

    /** Tokens in a full block, for the default policy's partial-tail rule (default 16). */
    public Builder blockTokens(int tokens) {
      if (tokens < 1) {
        throw new IllegalArgumentException("blockTokens must be positive, got " + tokens);
      }
      this.blockTokens = tokens;
      return this;
    }

    /** A typical block's bytes, to size the default policy in blocks (default 2 MiB). */
    public Builder typicalBlockBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("typicalBlockBytes must be positive, got " + bytes);
      }
      this.typicalBlockBytes = bytes;
      return this;
    }

    /**
     * The eviction policy of each tier, given the tier's capacity in typical blocks (default:
     * {@link PrefixAwareLru}).
     */
    public Builder evictionPolicy(LongFunction<EvictionPolicy<StoreKey>> factory) {
      this.policy = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Reconciles the directory with the tiers and returns the store.
     *
     * @throws StoreException if a tier cannot be walked (nothing is closed: the caller still owns
     *     the tiers and the directory)
     */
    public TieredStore build() throws StoreException {
      if (tiers.isEmpty()) {
        throw new IllegalStateException("a tiered store needs at least one tier");
      }
      if (directory == null) {
        throw new IllegalStateException("a tiered store needs a block directory");
      }
      if (executor == null) {
        throw new IllegalStateException(
            "a tiered store needs an executor for evictions and promotions");
      }
      List<TierState> levels = new ArrayList<>();
      for (Tier t : tiers) {
        long blocks = Math.max(1, t.capacityBytes() / typicalBlockBytes);
        EvictionPolicy<StoreKey> p =
            policy != null
                ? policy.apply(blocks)
                : PrefixAwareLru.newBuilder()
                    .capacityBlocks(blocks)
                    .blockTokens(blockTokens)
                    .build();
        levels.add(new TierState(levels.size(), t, p, high, low));
      }
      TieredStore store = new TieredStore(this, levels);
      store.reconcile();
      for (TierState lv : levels) {
        store.queueEviction(lv);
      }
      return store;
    }

    private List<TierKind> kinds() {
      List<TierKind> out = new ArrayList<>();
      for (Tier t : tiers) {
        out.add(t.kind());
      }
      return out;
    }
  }

  // ---- start-up -----------------------------------------------------------------------------

  /** Brings the directory in line with the tiers and seeds the policies (see the class comment). */
  private void reconcile() throws StoreException {
    long now = clock.millis();
    // 1. Entries: clear the bits of tiers that do not hold the block.
    List<StoreKey> stale = new ArrayList<>();
    directory.forEach(
        (k, e) -> {
          for (TierKind kind : TierKind.values()) {
            if (e.in(kind) && !holds(kind, k)) {
              stale.add(k);
              return;
            }
          }
        });
    for (StoreKey k : stale) {
      directory.update(
          k,
          e -> {
            if (e == null) {
              return null;
            }
            DirectoryEntry kept = e;
            for (TierKind kind : TierKind.values()) {
              if (kept.in(kind) && !holds(kind, k)) {
                kept = kept.without(kind);
              }
            }
            return kept.nowhere() ? null : kept;
          });
    }
    // 2. Blocks the tiers hold that the directory lacks (parent unknown, one token: evicted early).
    long added = 0;
    List<StoreKey> conflicts = new ArrayList<>();
    for (TierState lv : levels) {
      record Found(StoreKey key, long length, int crc) {}
      List<Found> found = new ArrayList<>();
      lv.tier.forEachBlock((k, length, crc) -> found.add(new Found(k, length, crc)));
      for (Found f : found) {
        StoreKey k = f.key();
        long length = f.length();
        int crc = f.crc();
        DirectoryEntry before = directory.get(k);
        if (before != null && before.in(lv.kind)) {
          continue;
        }
        if (before != null && !before.sameBytes(length, crc)) {
          conflicts.add(k);
          removeQuietly(lv, k);
          continue;
        }
        directory.update(
            k,
            e ->
                e == null
                    ? DirectoryEntry.committed(lv.kind, length, crc, null, 1, now)
                    : e.with(lv.kind));
        added++;
      }
    }
    // 3. Seed the policies, least recently used first.
    List<Map.Entry<StoreKey, DirectoryEntry>> all = new ArrayList<>();
    directory.forEach((k, e) -> all.add(Map.entry(k, e)));
    all.sort(Comparator.comparingLong(en -> en.getValue().lastAccessMillis()));
    for (Map.Entry<StoreKey, DirectoryEntry> en : all) {
      DirectoryEntry e = en.getValue();
      for (TierState lv : levels) {
        if (e.in(lv.kind)) {
          lv.inserted(en.getKey(), parentOf(en.getKey(), e.parent()), e.tokens());
        }
      }
    }
    LOG.log(
        Level.INFO,
        "tiered store: "
            + all.size()
            + " blocks in the directory after reconciling ("
            + stale.size()
            + " entries corrected, "
            + added
            + " blocks added from the tiers, "
            + conflicts.size()
            + " conflicting copies dropped)");
  }

  private boolean holds(TierKind kind, StoreKey key) {
    for (TierState lv : levels) {
      if (lv.kind == kind) {
        return lv.tier.contains(key);
      }
    }
    return false;
  }
}
