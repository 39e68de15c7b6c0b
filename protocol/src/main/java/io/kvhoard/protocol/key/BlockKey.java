package io.kvhoard.protocol.key;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A 32-byte chained prefix key: the SHA-256 digest that names a block and, through the chain, every
 * token before it.
 *
 * <p>Held as four big-endian longs, so equality, hashing and ordering need no array access. The
 * 64-bit form vLLM puts in its KV events is the last 8 bytes, big-endian ({@link #eventHash()}).
 *
 * <p>Immutable and thread-safe.
 */
public final class BlockKey implements Comparable<BlockKey> {
  /** Size of a key in bytes. */
  public static final int BYTES = 32;

  private static final HexFormat HEX = HexFormat.of();

  private final long w0;
  private final long w1;
  private final long w2;
  private final long w3;

  private BlockKey(long w0, long w1, long w2, long w3) {
    this.w0 = w0;
    this.w1 = w1;
    this.w2 = w2;
    this.w3 = w3;
  }

  /** The key whose bytes are {@code digest[0..32)}. */
  public static BlockKey of(byte[] digest) {
    Objects.requireNonNull(digest, "digest");
    if (digest.length != BYTES) {
      throw new IllegalArgumentException(
          "a block key is " + BYTES + " bytes, got " + digest.length);
    }
    return of(digest, 0);
  }

  /** The key whose bytes are {@code bytes[offset..offset+32)}. */
  public static BlockKey of(byte[] bytes, int offset) {
    Objects.checkFromIndexSize(offset, BYTES, bytes.length);
    return new BlockKey(
        readLong(bytes, offset),
        readLong(bytes, offset + 8),
        readLong(bytes, offset + 16),
        readLong(bytes, offset + 24));
  }

  /** Reads 32 bytes at the buffer's absolute {@code index}; its byte order is ignored. */
  public static BlockKey read(ByteBuffer buffer, int index) {
    Objects.checkFromIndexSize(index, BYTES, buffer.limit());
    boolean swap = buffer.order() == ByteOrder.LITTLE_ENDIAN;
    return new BlockKey(
        bigEndian(buffer.getLong(index), swap),
        bigEndian(buffer.getLong(index + 8), swap),
        bigEndian(buffer.getLong(index + 16), swap),
        bigEndian(buffer.getLong(index + 24), swap));
  }

  /**
   * Parses 64 hexadecimal digits.
   *
   * @throws IllegalArgumentException if the text is not exactly 64 hex digits
   */
  public static BlockKey fromHex(String hex) {
    Objects.requireNonNull(hex, "hex");
    if (hex.length() != 2 * BYTES) {
      throw new IllegalArgumentException(
          "a block key is " + 2 * BYTES + " hex digits, got " + hex.length() + ": '" + hex + "'");
    }
    try {
      return of(HEX.parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a hex block key: '" + hex + "'", e);
    }
  }

  /** The 64-bit form in vLLM's KV events: the last 8 bytes, big-endian (read as unsigned). */
  public long eventHash() {
    return w3;
  }

  /** A new array with the 32 bytes. */
  public byte[] toBytes() {
    byte[] out = new byte[BYTES];
    writeTo(out, 0);
    return out;
  }

  /** Writes the 32 bytes at {@code dst[offset..offset+32)}. */
  public void writeTo(byte[] dst, int offset) {
    Objects.checkFromIndexSize(offset, BYTES, dst.length);
    writeLong(dst, offset, w0);
    writeLong(dst, offset + 8, w1);
    writeLong(dst, offset + 16, w2);
    writeLong(dst, offset + 24, w3);
  }

  /** Writes the 32 bytes at the buffer's absolute {@code index}; its byte order is ignored. */
  public void writeTo(ByteBuffer dst, int index) {
    Objects.checkFromIndexSize(index, BYTES, dst.limit());
    boolean swap = dst.order() == ByteOrder.LITTLE_ENDIAN;
    dst.putLong(index, bigEndian(w0, swap))
        .putLong(index + 8, bigEndian(w1, swap))
        .putLong(index + 16, bigEndian(w2, swap))
        .putLong(index + 24, bigEndian(w3, swap));
  }

  /** A long read or written in a buffer's order, as the big-endian word the key holds. */
  private static long bigEndian(long v, boolean swap) {
    return swap ? Long.reverseBytes(v) : v;
  }

  /** The 64 lowercase hex digits. */
  public String toHex() {
    return HEX.formatHex(toBytes());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockKey k && w0 == k.w0 && w1 == k.w1 && w2 == k.w2 && w3 == k.w3;
  }

  @Override
  public int hashCode() {
    // Every word counts: keys from the network are whatever a client sends (a benchmark's
    // counters, a hostile client's collisions), not always SHA-256 output. Murmur3's finaliser
    // over a polynomial of the four words.
    long h =
        ((w0 * 0x9E3779B97F4A7C15L + w1) * 0x9E3779B97F4A7C15L + w2) * 0x9E3779B97F4A7C15L + w3;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) h;
  }

  /** Unsigned lexicographic order of the bytes. */
  @Override
  public int compareTo(BlockKey o) {
    int c = Long.compareUnsigned(w0, o.w0);
    if (c == 0) {
      c = Long.compareUnsigned(w1, o.w1);
    }
    if (c == 0) {
      c = Long.compareUnsigned(w2, o.w2);
    }
    if (c == 0) {
      c = Long.compareUnsigned(w3, o.w3);
    }
    return c;
  }

  /** The hex digits, for logs. */
  @Override
  public String toString() {
    return toHex();
  }

  static long readLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }

  static void writeLong(byte[] b, int off, long v) {
    for (int i = 0; i < 8; i++) {
      b[off + i] = (byte) (v >>> (56 - 8 * i));
    }
  }
}
