package io.kvhoard.client.transport;

import io.kvhoard.protocol.frame.BlockTier;

/**
 * Receives the outcome of each block of a batch as its response is read. Called on the thread
 * running the batch, at most once per slot; slots never reported failed with the connection.
 */
@FunctionalInterface
public interface BlockSink {
  /**
   * One block's outcome.
   *
   * @param index the slot's index
   * @param outcome what happened
   * @param tier where the server holds the block, when it says
   */
  void accept(int index, BlockOutcome outcome, BlockTier tier);
}
