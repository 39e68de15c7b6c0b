package io.kvhoard.protocol.frame;

/**
 * Status of a whole frame (header offset 16). {@link #OK} in every request and in every successful
 * response; anything else marks an error response whose payload is a UTF-8 message. Which errors
 * keep the connection usable is listed in {@code protocol/PROTOCOL.md}.
 *
 * <p>Immutable and thread-safe.
 */
public enum FrameStatus {
  /** Success. */
  OK(0),
  /**
   * The frame is malformed: a reserved bit or field is set, a section has the wrong shape, a
   * descriptor is invalid. Fatal (the connection closes) only when the magic is wrong.
   */
  BAD_FRAME(1),
  /** The header version is outside the receiver's supported range. The connection stays usable. */
  UNSUPPORTED_VERSION(2),
  /** The opcode is unknown to the receiver. The connection stays usable. */
  UNKNOWN_OPCODE(3),
  /**
   * The frame is longer than the receiver's limit (fatal: the receiver closes), or has more blocks
   * than the receiver's limit (the connection stays usable).
   */
  FRAME_TOO_LARGE(4),
  /** The header CRC32C does not match: the stream cannot be trusted, the receiver closes. */
  BAD_HEADER_CHECKSUM(5),
  /** The server is shedding load; retry later, preferably elsewhere. */
  OVERLOADED(6),
  /** The server failed while handling the request; the request may be retried. */
  INTERNAL(7),
  /** The server does not serve the frame's namespace. */
  NAMESPACE_UNKNOWN(8);

  private static final FrameStatus[] BY_CODE = values();

  private final int code;

  FrameStatus(int code) {
    this.code = code;
  }

  /** The wire code (u16). */
  public int code() {
    return code;
  }

  /** The status for {@code code}, or {@code null} if this version of the codec does not know it. */
  static FrameStatus byCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
