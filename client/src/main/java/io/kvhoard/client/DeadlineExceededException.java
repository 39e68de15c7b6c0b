package io.kvhoard.client;

/** Strict mode: the call's deadline passed before every block was done. Retriable. */
public final class DeadlineExceededException extends KvHoardException {
  private static final long serialVersionUID = 1L;

  /** With the message saying how far the call got. */
  public DeadlineExceededException(String message) {
    super(message, true, null);
  }
}
