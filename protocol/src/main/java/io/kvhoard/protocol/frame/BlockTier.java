package io.kvhoard.protocol.frame;

/**
 * Where the server holds a block (descriptor offset 42, responses only). The codes are those of the
 * {@code kvhoard.v1.Tier} protobuf enum, so control and data plane agree.
 *
 * <p>Immutable and thread-safe.
 */
public enum BlockTier {
  /** Not reported (always in requests). */
  UNKNOWN(0),
  /** Device memory. */
  GPU(1),
  /** Off-heap host RAM. */
  HOST(2),
  /** Local NVMe. */
  DISK(3);

  private static final BlockTier[] BY_CODE = values();

  private final int code;

  BlockTier(int code) {
    this.code = code;
  }

  /** The wire code (u8). */
  public int code() {
    return code;
  }

  /** The tier for {@code code}, or {@code null} if this version of the codec does not know it. */
  static BlockTier byCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
