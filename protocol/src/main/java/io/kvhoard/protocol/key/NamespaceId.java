package io.kvhoard.protocol.key;

import java.util.HexFormat;
import java.util.Objects;

/**
 * The 16-byte identity of a {@link Namespace}, carried in every data-plane frame and stored with
 * every block. Two namespaces have the same id only if every field that decides what a block's
 * bytes mean is the same (see {@link Namespace#id()} for how it is derived).
 *
 * <p>Immutable and thread-safe.
 */
public final class NamespaceId {
  /** Size of an id in bytes. */
  public static final int BYTES = 16;

  /** All zero: frames that belong to no namespace (HELLO, PING, errors) carry it. */
  public static final NamespaceId ZERO = new NamespaceId(0, 0);

  private static final HexFormat HEX = HexFormat.of();

  private final long hi;
  private final long lo;

  private NamespaceId(long hi, long lo) {
    this.hi = hi;
    this.lo = lo;
  }

  /** The id whose bytes are {@code bytes[offset..offset+16)}. */
  public static NamespaceId of(byte[] bytes, int offset) {
    Objects.checkFromIndexSize(offset, BYTES, bytes.length);
    return new NamespaceId(BlockKey.readLong(bytes, offset), BlockKey.readLong(bytes, offset + 8));
  }

  /**
   * The id whose 16 bytes are {@code bytes}.
   *
   * @throws IllegalArgumentException if {@code bytes} is not exactly 16 bytes long
   */
  public static NamespaceId of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException(
          "a namespace id is " + BYTES + " bytes, got " + bytes.length + " bytes");
    }
    return of(bytes, 0);
  }

  /** Whether all 16 bytes are zero. */
  public boolean isZero() {
    return hi == 0 && lo == 0;
  }

  /** The id from its two big-endian halves. */
  public static NamespaceId of(long hi, long lo) {
    return new NamespaceId(hi, lo);
  }

  /** Parses 32 hexadecimal digits. */
  public static NamespaceId fromHex(String hex) {
    Objects.requireNonNull(hex, "hex");
    if (hex.length() != 2 * BYTES) {
      throw new IllegalArgumentException(
          "a namespace id is " + 2 * BYTES + " hex digits, got " + hex.length());
    }
    return of(HEX.parseHex(hex), 0);
  }

  /** First 8 bytes, big-endian. */
  public long hi() {
    return hi;
  }

  /** Last 8 bytes, big-endian. */
  public long lo() {
    return lo;
  }

  /** Writes the 16 bytes at {@code dst[offset..offset+16)}. */
  public void writeTo(byte[] dst, int offset) {
    Objects.checkFromIndexSize(offset, BYTES, dst.length);
    BlockKey.writeLong(dst, offset, hi);
    BlockKey.writeLong(dst, offset + 8, lo);
  }

  /** A new array with the 16 bytes. */
  public byte[] toBytes() {
    byte[] out = new byte[BYTES];
    writeTo(out, 0);
    return out;
  }

  /** The 32 lowercase hex digits. */
  public String toHex() {
    return HEX.formatHex(toBytes());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NamespaceId n && hi == n.hi && lo == n.lo;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(hi ^ lo);
  }

  @Override
  public String toString() {
    return toHex();
  }
}
