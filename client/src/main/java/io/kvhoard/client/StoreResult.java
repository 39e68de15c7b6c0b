package io.kvhoard.client;

/**
 * What a store did with a prompt's full blocks.
 *
 * @param blocks the full blocks it was asked to store (those the source holds)
 * @param written blocks this call wrote to a server
 * @param alreadyCached blocks a server held already (not sent again)
 * @param stop {@link StopReason#COMPLETE} if every block is now cached, else why the first one that
 *     is not failed
 */
public record StoreResult(int blocks, int written, int alreadyCached, StopReason stop) {
  /** Blocks neither written nor cached before: failed (timed out, refused, server down). */
  public int failed() {
    return blocks - written - alreadyCached;
  }
}
