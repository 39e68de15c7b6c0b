package io.kvhoard.server.index;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import net.openhft.hashing.LongHashFunction;

/**
 * The index's own block keys: a chained xxh3-64 over token ids at the index's block size, seeded
 * per namespace, so every pod's blocks of one prefix get the same keys whatever hash seed or block
 * size its engine used.
 *
 * <p>Design: vLLM's prefix caching keys block i by hash(key of block i-1, tokens of block i, extra
 * keys), so one key names the whole prefix up to its block (vLLM docs, "Automatic Prefix Caching";
 * {@code kv_cache_utils.hash_block_tokens}); llm-d's kv-cache-manager re-keys engine events from
 * their tokens the same way, since 2025-12, so pods with different seeds share an index. Here the
 * hash is xxh3-64 (zero-allocation-hashing) of the longs {@code [previous key, token 0 .. token
 * B-1]}, the first block's previous key being the namespace seed, an xxh3 of (model, LoRA, cache
 * salt). 64 bits suffice: a collision costs a wrong routing score, never a wrong byte, because the
 * cache stores blocks under SHA-256 keys. A publisher that sends keys without tokens gets its key
 * hashed with the namespace seed instead (those keys match only the same publisher's keys).
 *
 * <p>Stateless and thread-safe; the caller supplies scratch buffers.
 */
final class CanonicalKeys {
  private static final LongHashFunction XX3 = LongHashFunction.xx3();
  private static final long KEY_DOMAIN = 0x6B76_686F_6172_644BL;

  private CanonicalKeys() {}

  /** The seed of a namespace's chains. */
  static long seed(String model, String lora, String salt) {
    byte[] b = (model + '\u0000' + lora + '\u0000' + salt).getBytes(StandardCharsets.UTF_8);
    return XX3.hashBytes(b);
  }

  /**
   * The key of a block.
   *
   * @param buf {@code [previous key, B tokens]}: element 0 and the tokens are the input
   * @param len 1 + B
   */
  static long block(long[] buf, int len) {
    return SlotSegment.nonEmpty(XX3.hashLongs(buf, 0, len));
  }

  /** The canonical key of a publisher key sent without tokens. */
  static long publisherKey(long seed, ByteString digest) {
    int n = digest.size();
    if (n == 8) {
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (digest.byteAt(i) & 0xFF);
      }
      return publisherKey(seed, v);
    }
    long h =
        XX3.hashLong(
            XX3.hashBytes(digest.asReadOnlyByteBuffer()) ^ (seed * 0x9E37_79B9_7F4A_7C15L));
    return SlotSegment.nonEmpty(h);
  }

  /** The canonical key of a publisher's 64-bit key (the 8-byte big-endian digest's value). */
  static long publisherKey(long seed, long key) {
    return SlotSegment.nonEmpty(XX3.hashLong(key ^ XX3.hashLong(seed ^ KEY_DOMAIN)));
  }

  /** A 64-bit id of (lane, engine key) for the engine key table. */
  static long engineId(int lane, ByteString digest) {
    return digestHash(digest) + (lane + 1) * 0xC2B2_AE3D_27D4_EB4FL;
  }

  /** xxh3 of a key of up to 32 bytes, read as big-endian longs, and its length. */
  private static long digestHash(ByteString digest) {
    int n = digest.size();
    long h = n;
    for (int i = 0; i < n; i += 8) {
      long w = 0;
      for (int j = i; j < i + 8; j++) {
        w = (w << 8) | (j < n ? digest.byteAt(j) & 0xFF : 0);
      }
      h = XX3.hashLong(w ^ h * 0x9E37_79B9_7F4A_7C15L);
    }
    return h;
  }
}
