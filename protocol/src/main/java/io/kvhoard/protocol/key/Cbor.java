package io.kvhoard.protocol.key;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The few canonical CBOR (RFC 8949 §4.2.1) items that prefix hashing and namespace ids encode:
 * unsigned integers, byte and text strings, definite-length arrays and null, each with the shortest
 * head. Written straight into a caller's array so hashing a block allocates nothing; a general CBOR
 * library (Jackson's, say) would cost an object per item and does not promise shortest heads for
 * every integer width, which the hash depends on.
 */
final class Cbor {
  static final int MAJOR_UNSIGNED = 0;
  static final int MAJOR_BYTES = 2;
  static final int MAJOR_TEXT = 3;
  static final int MAJOR_ARRAY = 4;
  static final byte NULL = (byte) 0xF6;

  /** The longest head: one initial byte and an 8-byte argument. */
  static final int MAX_HEAD = 9;

  private static final VarHandle LONG_BE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private Cbor() {}

  /**
   * Writes an unsigned integer item (major type 0) exactly like {@link #head}, but for values below
   * 2^32 without a data-dependent branch or table: the head and its argument are packed into one
   * big-endian long and stored at once. Token ids of mixed widths would otherwise mispredict often
   * enough to cost as much as hashing them. Stores 8 bytes (9 above 2^32) whatever the value, so
   * {@code buf} needs 9 bytes of room at {@code pos}; bytes past the returned position are garbage
   * for the next item to overwrite.
   */
  static int uintPacked(byte[] buf, int pos, long value) {
    if ((value >>> 32) != 0) {
      return head(buf, pos, MAJOR_UNSIGNED, value);
    }
    // Argument size class by significant bytes: 0-1 -> 1 byte, 2 -> 2, 3-4 -> 4 (nibble tables).
    int cls = (64 - Long.numberOfLeadingZeros(value) + 7) >>> 3;
    int n = (0x44211 >>> (cls << 2)) & 0xF;
    int info = 24 + ((0x22100 >>> (cls << 2)) & 0xF);
    boolean inline = value < 24;
    long headByte = inline ? value : info;
    int argBytes = inline ? 0 : n;
    LONG_BE.set(buf, pos, (headByte << 56) | (value << (56 - 8 * argBytes)));
    return pos + 1 + argBytes;
  }

  /**
   * Writes the head of a data item of {@code major} type with the unsigned argument {@code value}
   * (a long read as unsigned), in the shortest form; returns the position after it.
   */
  static int head(byte[] buf, int pos, int major, long value) {
    int mt = major << 5;
    if (value >= 0 && value < 24) {
      buf[pos] = (byte) (mt | (int) value);
      return pos + 1;
    }
    if (value >= 0 && value < 0x100) {
      buf[pos] = (byte) (mt | 24);
      buf[pos + 1] = (byte) value;
      return pos + 2;
    }
    if (value >= 0 && value < 0x10000) {
      buf[pos] = (byte) (mt | 25);
      buf[pos + 1] = (byte) (value >>> 8);
      buf[pos + 2] = (byte) value;
      return pos + 3;
    }
    if (value >= 0 && value < 0x1_0000_0000L) {
      buf[pos] = (byte) (mt | 26);
      buf[pos + 1] = (byte) (value >>> 24);
      buf[pos + 2] = (byte) (value >>> 16);
      buf[pos + 3] = (byte) (value >>> 8);
      buf[pos + 4] = (byte) value;
      return pos + 5;
    }
    buf[pos] = (byte) (mt | 27);
    for (int i = 0; i < 8; i++) {
      buf[pos + 1 + i] = (byte) (value >>> (56 - 8 * i));
    }
    return pos + 9;
  }

  /** Encodes a text string item. */
  static byte[] text(String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[MAX_HEAD + utf8.length];
    int pos = head(out, 0, MAJOR_TEXT, utf8.length);
    System.arraycopy(utf8, 0, out, pos, utf8.length);
    return java.util.Arrays.copyOf(out, pos + utf8.length);
  }

  /** Encodes an unsigned integer item. */
  static byte[] uint(long value) {
    byte[] out = new byte[MAX_HEAD];
    return java.util.Arrays.copyOf(out, head(out, 0, MAJOR_UNSIGNED, value));
  }

  /** Encodes a definite-length array of already-encoded items, or null when there are none. */
  static byte[] arrayOrNull(java.util.List<byte[]> items) {
    if (items.isEmpty()) {
      return new byte[] {NULL};
    }
    int size = MAX_HEAD;
    for (byte[] item : items) {
      size += item.length;
    }
    byte[] out = new byte[size];
    int pos = head(out, 0, MAJOR_ARRAY, items.size());
    for (byte[] item : items) {
      System.arraycopy(item, 0, out, pos, item.length);
      pos += item.length;
    }
    return java.util.Arrays.copyOf(out, pos);
  }
}
