package io.kvhoard.server.store;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * One tier inside the {@link TieredStore}: the tier, its eviction policy (not thread-safe, so
 * behind {@link #policyLock}), its watermarks and counters. The policy's residents mirror the
 * directory's bit for this tier: both change together under the key's stripe lock in the store.
 */
final class TierState {
  final int index;
  final Tier tier;
  final TierKind kind;
  final long highBytes;
  final long lowBytes;

  /** One evictor at a time per tier; taken hotter tier first when a demotion evicts below. */
  final ReentrantLock evictLock = new ReentrantLock();

  final AtomicBoolean evictionQueued = new AtomicBoolean();

  final LongAdder hits = new LongAdder();
  final LongAdder evictions = new LongAdder();
  final LongAdder demotions = new LongAdder();
  final LongAdder promotions = new LongAdder();
  final LongAdder readFailures = new LongAdder();

  private static final int MAX_PENDING_ACCESSES = 4096;

  private final ReentrantLock policyLock = new ReentrantLock();
  private final ConcurrentLinkedQueue<StoreKey> pendingAccesses = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pendingCount = new AtomicInteger();
  private final EvictionPolicy<StoreKey> policy;

  TierState(int index, Tier tier, EvictionPolicy<StoreKey> policy, double high, double low) {
    this.index = index;
    this.tier = tier;
    this.kind = tier.kind();
    this.policy = policy;
    this.highBytes = (long) (tier.capacityBytes() * high);
    this.lowBytes = (long) (tier.capacityBytes() * low);
  }

  void inserted(StoreKey key, StoreKey parent, long tokens) {
    policyLock.lock();
    try {
      drainAccesses();
      policy.onInsert(key, parent, tokens);
    } finally {
      policyLock.unlock();
    }
  }

  /**
   * A hit: applied now if the policy is free, else queued for whoever takes the policy next (up to
   * {@link #MAX_PENDING_ACCESSES}; beyond that the hint is dropped, as Caffeine drops reads under
   * contention). A block that left the tier meanwhile is skipped.
   */
  void accessed(StoreKey key) {
    if (policyLock.tryLock()) {
      try {
        drainAccesses();
        touch(key);
      } finally {
        policyLock.unlock();
      }
    } else if (pendingCount.incrementAndGet() <= MAX_PENDING_ACCESSES) {
      pendingAccesses.add(key);
    } else {
      pendingCount.decrementAndGet();
    }
  }

  /** Applies queued hits; caller holds the policy lock. */
  private void drainAccesses() {
    StoreKey k;
    while ((k = pendingAccesses.poll()) != null) {
      pendingCount.decrementAndGet();
      touch(k);
    }
  }

  private void touch(StoreKey key) {
    try {
      policy.onAccess(key);
    } catch (IllegalArgumentException leftMeanwhile) {
      // evicted or deleted between the read and now: nothing to refresh
    }
  }

  void removed(StoreKey key) {
    policyLock.lock();
    try {
      drainAccesses();
      policy.onRemove(key);
    } finally {
      policyLock.unlock();
    }
  }

  /** The policy's next victim among those {@code first} accepts, else among {@code then}'s. */
  StoreKey victim(Predicate<StoreKey> first, Predicate<StoreKey> then) {
    policyLock.lock();
    try {
      drainAccesses();
      StoreKey v = policy.victim(first);
      return v != null ? v : policy.victim(then);
    } finally {
      policyLock.unlock();
    }
  }

  int policySize() {
    policyLock.lock();
    try {
      return policy.size();
    } finally {
      policyLock.unlock();
    }
  }

  boolean aboveHigh() {
    return tier.usedBytes() > highBytes;
  }

  @Override
  public String toString() {
    return kind + " tier";
  }
}
