package io.kvhoard.server.store;

/**
 * How strongly a block is kept, for prefixes every request shares (system prompts, tool
 * definitions). Pins are per block; pin each block of a prefix.
 */
public enum Pin {
  /** Evicted by the normal policy. */
  NONE,
  /** Evicted only when no unpinned block can be, and then leaves first. */
  SOFT,
  /** Never evicted or demoted; removed only by an explicit delete or unpin. */
  HARD
}
