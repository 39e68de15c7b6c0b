package io.kvhoard.client;

/** Why a call covered fewer blocks than the prompt has (or {@link #COMPLETE}). */
public enum StopReason {
  /** Every full block of the prompt (that the memory holds) was done. */
  COMPLETE,
  /** The next block is not cached: an ordinary miss. */
  MISS,
  /** The deadline passed before the next block arrived. */
  TIMEOUT,
  /** The next block's server failed (refused, reset, closed, broke the protocol, or refused it). */
  SERVER_FAILED,
  /** The next block arrived with bytes that do not match its CRC32C (or a wrong size or key). */
  CORRUPT,
  /** No server is live (all are backed off after failures). */
  NO_SERVERS
}
