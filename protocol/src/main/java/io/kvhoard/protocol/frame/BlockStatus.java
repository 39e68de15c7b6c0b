package io.kvhoard.protocol.frame;

/**
 * Outcome for one block in a response (descriptor offset 40). Requests always carry {@link #OK}.
 *
 * <p>Immutable and thread-safe.
 */
public enum BlockStatus {
  /** Found (GET, CONTAINS_PREFIX), stored (PUT) or deleted (DELETE). */
  OK(0),
  /** The key is not held. */
  NOT_FOUND(1),
  /** GET: the block is larger than the caller's slot. PUT: larger than the server accepts. */
  TOO_LARGE(2),
  /** PUT: the payload does not match the descriptor's CRC32C; nothing was stored. */
  CHECKSUM_MISMATCH(3),
  /** PUT: no room, even after eviction. */
  NO_SPACE(4),
  /** PUT: the key is already stored; the first writer wins and the new bytes are dropped. */
  EXISTS(5),
  /** Any other failure for this block. */
  ERROR(6);

  private static final BlockStatus[] BY_CODE = values();

  private final int code;

  BlockStatus(int code) {
    this.code = code;
  }

  /** The wire code (u16). */
  public int code() {
    return code;
  }

  /** The status for {@code code}, or {@code null} if this version of the codec does not know it. */
  static BlockStatus byCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
