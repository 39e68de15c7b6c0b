package io.kvhoard.protocol.frame;

/**
 * What a frame asks for (requests) or answers (responses: the same opcode with the RESPONSE flag).
 * Codes are the byte at header offset 5; see {@code protocol/PROTOCOL.md}.
 *
 * <p>Immutable and thread-safe.
 */
public enum Opcode {
  /**
   * No operation: valid only in an error response to a frame whose opcode was unknown or could not
   * be read. A request with opcode 0 is rejected with {@link FrameStatus#UNKNOWN_OPCODE}.
   */
  NONE(0),
  /** Version negotiation and limits exchange; the first frame on a connection. */
  HELLO(1),
  /** Liveness and round-trip check; the payload, if any, is echoed. */
  PING(2),
  /** Read these keys into these slots: descriptors carry keys and slot capacities. */
  GET(3),
  /** Write these slots as these keys: descriptors carry keys, lengths and CRC32Cs. */
  PUT(4),
  /** Which of these keys (a prefix chain, in order) are held, and on which tier. */
  CONTAINS_PREFIX(5),
  /** Forget these keys. */
  DELETE(6);

  private static final Opcode[] BY_CODE = values();

  private final int code;

  Opcode(int code) {
    this.code = code;
  }

  /** The wire code (u8). */
  public int code() {
    return code;
  }

  /** Whether frames of this opcode carry block descriptors (GET, PUT, CONTAINS_PREFIX, DELETE). */
  public boolean isBlockOp() {
    return code >= GET.code;
  }

  /** The opcode for {@code code}, or {@code null} if this version of the codec does not know it. */
  static Opcode byCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
