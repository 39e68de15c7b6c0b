package io.kvhoard.protocol.frame;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Writes frame bytes field by field with a plain little-endian {@link ByteBuffer} and the JDK's
 * {@link CRC32C}, from {@code PROTOCOL.md} alone: an oracle independent of the codec under test.
 * Every field is settable, including the ones a valid frame must not set, so tests can write any
 * malformed frame. Lengths and the header CRC are computed unless overridden.
 */
final class RawFrame {
  int magic = 0x4648564B;
  int version = 1;
  int opcode;
  int flags;
  long requestId = 1;
  int status;
  int reserved18;
  Integer blockCount; // computed from the descriptors unless set
  byte[] namespace = new byte[16];
  Integer descriptorLength; // computed unless set
  Integer payloadLength; // computed unless set
  int reserved48;
  Integer headerCrc; // computed unless set

  private final ByteArrayOutputStream descriptors = new ByteArrayOutputStream();
  private int descriptorCount;
  private byte[] payload = new byte[0];

  static RawFrame request(int opcode) {
    RawFrame f = new RawFrame();
    f.opcode = opcode;
    return f;
  }

  static RawFrame response(int opcode) {
    RawFrame f = request(opcode);
    f.flags = 1;
    return f;
  }

  RawFrame id(long requestId) {
    this.requestId = requestId;
    return this;
  }

  RawFrame namespace(byte[] namespace) {
    this.namespace = namespace.clone();
    return this;
  }

  RawFrame descriptor(byte[] key, int length, int crc, int blockStatus, int tier) {
    return descriptor(key, length, crc, blockStatus, tier, 0, 0);
  }

  RawFrame descriptor(
      byte[] key, int length, int crc, int blockStatus, int tier, int flags, int reserved) {
    ByteBuffer d = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
    d.put(key).putInt(length).putInt(crc).putShort((short) blockStatus);
    d.put((byte) tier).put((byte) flags).putInt(reserved);
    descriptors.writeBytes(d.array());
    descriptorCount++;
    return this;
  }

  RawFrame helloBody(int min, int max, int maxFrameBytes, int maxBlocks) {
    return helloBody(min, max, 0, maxFrameBytes, maxBlocks, 0);
  }

  RawFrame helloBody(
      int min, int max, int reserved2, int maxFrameBytes, int maxBlocks, int reserved12) {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) min).put((byte) max).putShort((short) reserved2);
    b.putInt(maxFrameBytes).putInt(maxBlocks).putInt(reserved12);
    descriptors.writeBytes(b.array());
    return this;
  }

  RawFrame payload(byte[] payload) {
    this.payload = payload.clone();
    return this;
  }

  byte[] bytes() {
    byte[] desc = descriptors.toByteArray();
    ByteBuffer b =
        ByteBuffer.allocate(56 + desc.length + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(magic).put((byte) version).put((byte) opcode).putShort((short) flags);
    b.putLong(requestId).putShort((short) status).putShort((short) reserved18);
    b.putInt(blockCount != null ? blockCount : descriptorCount);
    b.put(namespace);
    b.putInt(descriptorLength != null ? descriptorLength : desc.length);
    b.putInt(payloadLength != null ? payloadLength : payload.length);
    b.putInt(reserved48);
    byte[] out = b.array();
    b.putInt(headerCrc != null ? headerCrc : crc32c(out, 0, 52));
    b.put(desc).put(payload);
    return out;
  }

  static int crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  static int crc32c(byte[] bytes) {
    return crc32c(bytes, 0, bytes.length);
  }

  /** Rewrites the header CRC of the frame starting at {@code offset} in {@code bytes}. */
  static void fixHeaderCrc(byte[] bytes, int offset) {
    int crc = crc32c(bytes, offset, 52);
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(offset + 52, crc);
  }

  static byte[] key(int seed) {
    byte[] key = new byte[32];
    for (int i = 0; i < 32; i++) {
      key[i] = (byte) (seed * 31 + i);
    }
    return key;
  }

  static byte[] bytes(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed + i * 7);
    }
    return b;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
