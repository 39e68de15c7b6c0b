package io.kvhoard.server.store.eviction;

import java.util.function.Predicate;

/**
 * Chooses which resident block the store evicts next. Pure bookkeeping: no I/O, no threads, no
 * clock; the store reports what happens to its blocks and asks for victims, and the hit-ratio
 * simulator drives the same implementations from a trace.
 *
 * <p>Protocol. Every block that becomes resident is reported once with {@link #onInsert}, every hit
 * with {@link #onAccess}, and every block that stops being resident, for whatever reason (evicted,
 * demoted to a lower tier, deleted, failed its checksum), with {@link #onRemove}. {@link #victim}
 * only chooses: to free space the store asks for a victim, evicts it and reports it with {@code
 * onRemove}, and repeats until it is under its low watermark. There is no separate admission call:
 * a policy that would not have admitted a new block returns it as the next victim (W-TinyLFU's
 * admission is a contest between two resident blocks anyway), so a store always stores first and
 * evicts after.
 *
 * <p>Keys are compared with {@code equals}/{@code hashCode}. A block's parent is the block whose
 * key covers the prefix one block shorter ({@code null} for a prompt's first block); the parent
 * need not be resident.
 *
 * <p>Not thread-safe: the store calls it under its own lock. Calls that contradict the residency
 * the policy was told about (inserting a resident key, touching or removing an absent one) throw
 * {@link IllegalArgumentException}: they are bugs in the caller, and guessing would let the policy
 * drift from the store's directory.
 *
 * @param <K> block key type
 */
public interface EvictionPolicy<K> {
  /**
   * A block became resident.
   *
   * @param parent the key of the block before it in its prompt, resident or not; {@code null} for a
   *     first block
   * @param tokens how many tokens the block holds: a full block, or fewer for a prompt's partial
   *     last block
   * @throws IllegalArgumentException if {@code key} is already resident, is its own parent, or
   *     {@code tokens} is not positive
   */
  void onInsert(K key, K parent, long tokens);

  /**
   * A resident block was read (a hit), or stored again by an engine that recomputed it.
   *
   * @throws IllegalArgumentException if {@code key} is not resident
   */
  void onAccess(K key);

  /**
   * A block stopped being resident: evicted (after {@link #victim} chose it) or removed for any
   * other reason. Its resident children, if any, become orphans: unreachable by a prefix lookup
   * until the block returns.
   *
   * @throws IllegalArgumentException if {@code key} is not resident
   */
  void onRemove(K key);

  /**
   * The block to evict next among those {@code evictable} accepts, or {@code null} if it accepts
   * none that this policy would evict. Does not remove it: the caller evicts it and calls {@link
   * #onRemove}. The predicate is how a store protects pinned and leased blocks; it is called at
   * most once per candidate, in the order of preference, and should be cheap.
   */
  K victim(Predicate<? super K> evictable);

  /** How many blocks are resident, as reported to this policy. */
  int size();
}
