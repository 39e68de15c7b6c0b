package io.kvhoard.protocol.frame;

import java.util.Objects;

/**
 * The 16-byte namespace id of a block frame (header offset 24). Opaque to the codec: it is compared
 * and copied, never interpreted. How a namespace (model, KV layout, tenant salt) maps to its id is
 * decided by the key package, not here.
 *
 * <p>Immutable and thread-safe.
 */
public final class NamespaceId {
  /** All zero: the namespace of HELLO, PING and error frames. */
  public static final NamespaceId ZERO = new NamespaceId(0L, 0L);

  // Bytes 0..7 and 8..15, each read as a little-endian long: the wire bytes, packed.
  private final long low;
  private final long high;

  NamespaceId(long low, long high) {
    this.low = low;
    this.high = high;
  }

  /**
   * The id whose wire form is {@code bytes}.
   *
   * @throws IllegalArgumentException if {@code bytes} is not exactly 16 bytes long
   */
  public static NamespaceId of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length != FrameCodec.NAMESPACE_ID_BYTES) {
      throw new IllegalArgumentException(
          "a namespace id is "
              + FrameCodec.NAMESPACE_ID_BYTES
              + " bytes, got "
              + bytes.length
              + " bytes");
    }
    return new NamespaceId(leLong(bytes, 0), leLong(bytes, 8));
  }

  /** The 16 wire bytes, in a new array. */
  public byte[] toBytes() {
    byte[] bytes = new byte[FrameCodec.NAMESPACE_ID_BYTES];
    for (int i = 0; i < 8; i++) {
      bytes[i] = (byte) (low >>> (8 * i));
      bytes[8 + i] = (byte) (high >>> (8 * i));
    }
    return bytes;
  }

  /** Whether all 16 bytes are zero. */
  public boolean isZero() {
    return low == 0 && high == 0;
  }

  long low() {
    return low;
  }

  long high() {
    return high;
  }

  private static long leLong(byte[] b, int off) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[off + i] & 0xFFL);
    }
    return v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NamespaceId other && other.low == low && other.high == high;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(low) * 31 + Long.hashCode(high);
  }

  /** The 16 bytes in wire order, as 32 lowercase hex digits. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(32);
    for (byte b : toBytes()) {
      sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return sb.toString();
  }
}
