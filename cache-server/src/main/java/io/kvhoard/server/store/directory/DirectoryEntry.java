package io.kvhoard.server.store.directory;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.server.store.Pin;
import io.kvhoard.server.store.TierKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * What the directory knows of one block: the tiers that hold it, its size and checksum, its parent
 * in the prefix chain, how many tokens it covers, its pin and when it was last read.
 *
 * @param tiers a bit per {@link TierKind} ordinal: the tiers holding a committed copy
 * @param length the block's bytes
 * @param crc32c the CRC32C of its bytes, recorded at the first commit
 * @param parent the key of the block before it in its prompt (same namespace), or {@code null}
 * @param tokens the tokens it covers (positive)
 * @param pin how strongly it is kept
 * @param lastAccessMillis the store clock's time of its last put or read
 */
public record DirectoryEntry(
    int tiers,
    long length,
    int crc32c,
    BlockKey parent,
    int tokens,
    Pin pin,
    long lastAccessMillis) {
  /** Bytes of an encoded entry in the map (fixed, so Chronicle Map sizes it exactly). */
  static final int BYTES = 64;

  private static final byte FORMAT = 1;
  private static final int HAS_PARENT = 1;
  private static final Pin[] PINS = Pin.values();

  public DirectoryEntry {
    Objects.requireNonNull(pin, "pin");
    if (length < 1) {
      throw new IllegalArgumentException("length must be positive, got " + length);
    }
    if (tokens < 1) {
      throw new IllegalArgumentException("tokens must be positive, got " + tokens);
    }
    if ((tiers & ~((1 << TierKind.values().length) - 1)) != 0) {
      throw new IllegalArgumentException("unknown tier bits " + Integer.toBinaryString(tiers));
    }
  }

  /** An entry for a block that has just been committed to {@code tier}. */
  public static DirectoryEntry committed(
      TierKind tier, long length, int crc32c, BlockKey parent, int tokens, long nowMillis) {
    return new DirectoryEntry(bit(tier), length, crc32c, parent, tokens, Pin.NONE, nowMillis);
  }

  /** The bit of {@code tier} in {@link #tiers}. */
  public static int bit(TierKind tier) {
    return 1 << tier.ordinal();
  }

  /** Whether {@code tier} holds a committed copy. */
  public boolean in(TierKind tier) {
    return (tiers & bit(tier)) != 0;
  }

  /** The hottest tier holding a copy ({@link TierKind} is ordered hottest first), or null. */
  public TierKind hottest() {
    for (TierKind k : TierKind.values()) {
      if (in(k)) {
        return k;
      }
    }
    return null;
  }

  /** Whether no tier holds it (the entry should be removed). */
  public boolean nowhere() {
    return tiers == 0;
  }

  public DirectoryEntry with(TierKind tier) {
    return new DirectoryEntry(
        tiers | bit(tier), length, crc32c, parent, tokens, pin, lastAccessMillis);
  }

  public DirectoryEntry without(TierKind tier) {
    return new DirectoryEntry(
        tiers & ~bit(tier), length, crc32c, parent, tokens, pin, lastAccessMillis);
  }

  public DirectoryEntry withPin(Pin newPin) {
    return new DirectoryEntry(tiers, length, crc32c, parent, tokens, newPin, lastAccessMillis);
  }

  public DirectoryEntry accessedAt(long millis) {
    return new DirectoryEntry(tiers, length, crc32c, parent, tokens, pin, millis);
  }

  /** Whether this entry and a new commit of {@code length} bytes with {@code crc} agree. */
  public boolean sameBytes(long otherLength, int otherCrc32c) {
    return length == otherLength && crc32c == otherCrc32c;
  }

  /*
   * Layout, little-endian, 64 bytes: format(1) tiers(1) pin(1) flags(1) crc32c(4) tokens(4)
   * reserved(4) length(8) lastAccess(8) parent(32).
   */
  void encode(byte[] out) {
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, FORMAT)
        .put(1, (byte) tiers)
        .put(2, (byte) pin.ordinal())
        .put(3, (byte) (parent == null ? 0 : HAS_PARENT))
        .putInt(4, crc32c)
        .putInt(8, tokens)
        .putInt(12, 0)
        .putLong(16, length)
        .putLong(24, lastAccessMillis);
    if (parent != null) {
      parent.writeTo(out, 32);
    } else {
      java.util.Arrays.fill(out, 32, 64, (byte) 0);
    }
  }

  /** The entry, or {@code null} if {@code in} is not one this version wrote. */
  static DirectoryEntry decode(byte[] in) {
    if (in == null || in.length != BYTES || in[0] != FORMAT) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
    int pin = b.get(2);
    long length = b.getLong(16);
    int tokens = b.getInt(8);
    int tiers = b.get(1) & 0xff;
    if (pin < 0
        || pin >= PINS.length
        || length < 1
        || tokens < 1
        || tiers >= 1 << TierKind.values().length) {
      return null;
    }
    BlockKey parent = (b.get(3) & HAS_PARENT) != 0 ? BlockKey.of(in, 32) : null;
    return new DirectoryEntry(tiers, length, b.getInt(4), parent, tokens, PINS[pin], b.getLong(24));
  }
}
