package io.kvhoard.server.store;

import java.util.concurrent.CompletableFuture;

/**
 * One storage medium of the tiered store: the SPI that host RAM, NVMe and device memory implement.
 * The {@code TierContractTest} suite in the tests runs against every implementation.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Thread-safety.</b> Every method may be called from any thread, concurrently. A {@link
 *       BlockWriter} is used by one thread at a time; a {@link BlockLease} may be shared.
 *   <li><b>Two-phase put.</b> {@link #reserve} takes the space (or fails at once), {@link
 *       BlockWriter#write} fills it, {@link BlockWriter#commit} publishes it atomically. Before the
 *       commit completes, {@link #read} and {@link #contains} do not see the block; after, they see
 *       all of it.
 *   <li><b>First writer wins.</b> Committing a key that is already committed keeps the stored block
 *       and reports {@code false}; the bytes of two puts are never mixed.
 *   <li><b>Leases.</b> A block read through {@link #read} stays intact until its lease is released,
 *       even if it is {@link #remove removed}: removal hides it from new readers at once and frees
 *       its space when the last lease goes (or at once, in a tier whose leases hold a private copy
 *       of the bytes, as the disk tier's do).
 *   <li><b>Idempotency.</b> {@link #remove} of an absent key returns {@code false}; {@link #close}
 *       twice does nothing; {@link BlockWriter#close} after commit does nothing.
 *   <li><b>Asynchrony.</b> Reads and writes return futures so that a tier behind a copy engine
 *       (GPU) or I/O (disk) does not block the caller's thread; host memory completes them at once.
 *       A miss is not an error: {@link #read} completes with {@code null}.
 *   <li><b>Errors.</b> {@link StoreException} (checked, or as the cause of a failed future) when
 *       the medium fails, {@link NoSpaceException} when a reservation does not fit; a block that
 *       fails its checksum is dropped, counted, and read as a miss. {@link
 *       IllegalArgumentException} for invalid arguments (a length below 1); {@link
 *       IllegalStateException} after close.
 * </ul>
 */
public interface Tier extends AutoCloseable {
  TierKind kind();

  /** Bytes this tier may hold. */
  long capacityBytes();

  /** Bytes held by committed blocks and open reservations (page-rounded where the tier pages). */
  long usedBytes();

  /** Committed blocks. */
  long blockCount();

  /**
   * Reserves room for a block of {@code length} bytes under {@code key}; nothing is visible until
   * the returned writer commits.
   *
   * @throws NoSpaceException if it does not fit now (or ever, see {@link
   *     NoSpaceException#everFits()})
   * @throws IllegalArgumentException if {@code length < 1}
   */
  BlockWriter reserve(StoreKey key, long length) throws StoreException;

  /**
   * Leases a committed block; the future completes with {@code null} on a miss. The caller releases
   * the lease.
   */
  CompletableFuture<BlockLease> read(StoreKey key);

  /** Whether a committed block is held under {@code key}. */
  boolean contains(StoreKey key);

  /**
   * Whether a lease on {@code key} holds the block's memory now: removing such a block frees its
   * space only when the lease is released, so eviction passes it over while it is read. Always
   * {@code false} in a tier whose leases hold a private copy of the bytes (disk). A hint, true or
   * false a moment later; never an error ({@code false} for an absent key).
   */
  boolean leased(StoreKey key);

  /**
   * Visits every committed block, weakly consistent with concurrent puts and removals (a block
   * committed or removed during the walk may or may not be visited). How the store rebuilds its
   * directory from a persistent tier after a restart.
   *
   * @throws StoreException if the medium cannot be read through
   */
  void forEachBlock(BlockVisitor visitor) throws StoreException;

  /**
   * Removes a committed block: new readers miss at once; its space is freed when its last lease is
   * released.
   *
   * @return {@code false} if no block was held under {@code key}
   */
  boolean remove(StoreKey key) throws StoreException;

  /**
   * Closes the tier and frees what it holds; every part is closed even if one fails. Outstanding
   * leases keep their memory until released.
   */
  @Override
  void close() throws StoreException;
}
