package io.kvhoard.client;

/**
 * A failure the client reports by throwing: only in strict mode ({@code
 * KvHoardClient.Builder#strict}), or for misuse (then an {@code IllegalArgumentException} or {@code
 * IllegalStateException} instead). Without strict mode a failed server costs a shorter prefix,
 * counted in the metrics, never an exception.
 *
 * <p>{@link #isRetriable()} says whether the same call may succeed later or elsewhere (a server
 * that was down, a deadline too short for the batch, a corrupt copy).
 */
public class KvHoardException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean retriable;

  /** A failure with its message, whether it is retriable, and its cause (may be null). */
  public KvHoardException(String message, boolean retriable, Throwable cause) {
    super(message, cause);
    this.retriable = retriable;
  }

  /** Whether the same call may succeed if tried again. */
  public boolean isRetriable() {
    return retriable;
  }
}
