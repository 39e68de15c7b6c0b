package io.kvhoard.client.transport;

import io.kvhoard.protocol.key.BlockKey;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One block of a batch: the caller's index for it, its key and, for GET and PUT, the memory it is
 * read into or written from (a view of exactly one block: position 0, limit the block's size).
 *
 * <p>Immutable (the buffer's bytes are the caller's); thread-safe to hand between threads.
 *
 * @param index the caller's index, echoed to the {@link BlockSink}
 * @param key the block's key
 * @param buffer the block's memory; null for CONTAINS_PREFIX
 */
public record Slot(int index, BlockKey key, ByteBuffer buffer) {
  /** Validates the key. */
  public Slot {
    Objects.requireNonNull(key, "key");
  }
}
