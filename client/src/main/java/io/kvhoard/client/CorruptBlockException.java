package io.kvhoard.client;

/**
 * Strict mode: a block arrived with bytes that do not match its CRC32C. Its bytes were not counted
 * as filled. Retriable (another copy, or the engine's own recomputation).
 */
public final class CorruptBlockException extends KvHoardException {
  private static final long serialVersionUID = 1L;

  /** With the message naming the block and server. */
  public CorruptBlockException(String message) {
    super(message, true, null);
  }
}
