package io.kvhoard.client;

/**
 * Strict mode: a server the call needed failed (refused, reset, closed, broke the protocol), or no
 * server is live. Retriable: it is backed off and tried again later.
 */
public final class ServerUnavailableException extends KvHoardException {
  private static final long serialVersionUID = 1L;

  /** With the message naming what failed. */
  public ServerUnavailableException(String message) {
    super(message, true, null);
  }
}
