package io.kvhoard.client;

import java.util.List;

/**
 * How much of a prompt's prefix the cluster holds.
 *
 * @param tokens leading tokens cached: {@code blocks().size() × block tokens}
 * @param blocks where each leading cached block is, in order
 * @param stop why the prefix ends where it does
 */
public record LookupResult(int tokens, List<BlockLocation> blocks, StopReason stop) {
  /** Copies the list. */
  public LookupResult {
    blocks = List.copyOf(blocks);
  }
}
