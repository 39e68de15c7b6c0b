package io.kvhoard.server.store.disk;

import java.nio.ByteBuffer;

/**
 * The small record kept for every block in the {@code meta} column family, and the key encoding
 * both column families share.
 *
 * <p>Key: namespace id (16 bytes) then prefix key (32 bytes), 48 bytes in all. Value: a format
 * byte, the block's length, its CRC32C and the commit generation (a number that increases with
 * every commit, so that a block found corrupt is dropped only if it is still the same commit).
 *
 * @param length the block's length in bytes
 * @param crc32c the CRC32C of the block's bytes, checked on every read
 * @param generation the commit's generation
 */
record BlockMeta(long length, int crc32c, long generation) {
  static final int VALUE_BYTES = 1 + 8 + 4 + 8;
  private static final byte FORMAT = 1;

  byte[] encode() {
    return ByteBuffer.allocate(VALUE_BYTES)
        .put(FORMAT)
        .putLong(length)
        .putInt(crc32c)
        .putLong(generation)
        .array();
  }

  /** The record, or null if {@code value} is not one (torn or corrupt). */
  static BlockMeta decode(byte[] value) {
    if (value == null || value.length != VALUE_BYTES || value[0] != FORMAT) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(value, 1, VALUE_BYTES - 1);
    long length = b.getLong();
    int crc = b.getInt();
    long generation = b.getLong();
    if (length < 1 || length > DiskTier.MAX_BLOCK_BYTES || generation < 1) {
      return null;
    }
    return new BlockMeta(length, crc, generation);
  }
}
