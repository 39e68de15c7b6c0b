package io.kvhoard.protocol.key;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Chained token-prefix keys, bit for bit as vLLM's {@code sha256_cbor} prefix-cache hash.
 *
 * <p>Design. vLLM ({@code vllm/v1/core/kv_cache_utils.py}, {@code vllm/utils/hashing.py}) names
 * block {@code i} by {@code h_i = SHA-256(CBOR([h_{i-1}, [token ids], extra_keys]))} with canonical
 * CBOR (cbor2 {@code canonical=True}: shortest integer heads, definite lengths), where {@code h_-1
 * = NONE_HASH = SHA-256(CBOR(seed as a text string))} and the seed is {@code PYTHONHASHSEED}. Only
 * full blocks are keyed. {@code extra_keys} is null, or an array with the LoRA name (every block)
 * followed by the cache salt (first block only; the chain carries it into every later block).
 * Reproducing this exactly is what lets a Java client share blocks with vLLM pods, and what lets an
 * operator check that two pods agree ({@code kvhoard hash}); mismatched seeds are the top cause of
 * pods that never share hits.
 *
 * <p>Cost. Per block the encoder writes about {@code 40 + 3 × tokens} bytes into one reusable
 * array, and the 32-byte digest of block {@code i} is written straight into the array where block
 * {@code i+1}'s encoding needs it, so hashing allocates nothing per block besides the returned key;
 * the time is SHA-256's (see {@code perf/}: PrefixHashBenchmark).
 *
 * <p>Token ids are unsigned: a {@code long} is read as an unsigned 64-bit value (CBOR major type
 * 0), and an {@code int[]} must hold no negative id.
 *
 * <p>Immutable and thread-safe: every call uses its own digest and buffer.
 */
public final class PrefixHasher {
  private static final String ALGORITHM = "SHA-256";
  private static final int PARENT_OFFSET = 3; // after 0x83 (array of 3) and 0x58 0x20 (bstr 32)

  private final String seed;
  private final int blockSize;
  private final List<String> extraKeys;
  private final String cacheSalt;
  private final byte[] firstExtra;
  private final byte[] laterExtra;
  private final byte[] tokensHead;
  private final byte[] noneHash;
  private final MessageDigest prototype;

  private PrefixHasher(Builder b) {
    this.seed = b.seed;
    this.blockSize = b.blockSize;
    this.extraKeys = List.copyOf(b.extraKeys);
    this.cacheSalt = b.cacheSalt;
    this.prototype = newDigest();
    List<byte[]> later = new ArrayList<>();
    for (String k : extraKeys) {
      later.add(Cbor.text(k));
    }
    List<byte[]> first = new ArrayList<>(later);
    if (cacheSalt != null) {
      first.add(Cbor.text(cacheSalt));
    }
    this.firstExtra = Cbor.arrayOrNull(first);
    this.laterExtra = Cbor.arrayOrNull(later);
    byte[] head = new byte[Cbor.MAX_HEAD];
    this.tokensHead = Arrays.copyOf(head, Cbor.head(head, 0, Cbor.MAJOR_ARRAY, blockSize));
    this.noneHash = digest(Cbor.text(seed));
  }

  /** A builder; {@link Builder#seed} and {@link Builder#blockSize} are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Tokens per block. */
  public int blockSize() {
    return blockSize;
  }

  /** The seed whose hash starts every chain. */
  public String seed() {
    return seed;
  }

  /** vLLM's {@code NONE_HASH}: the parent of block 0. */
  public BlockKey noneHash() {
    return BlockKey.of(noneHash);
  }

  /** How many full blocks {@code tokenCount} tokens make. */
  public int fullBlocks(int tokenCount) {
    return tokenCount / blockSize;
  }

  /**
   * The keys of the full blocks of {@code tokens}, in order; a trailing partial block is ignored.
   */
  public List<BlockKey> hash(long[] tokens) {
    Objects.requireNonNull(tokens, "tokens");
    int blocks = fullBlocks(tokens.length);
    List<BlockKey> keys = new ArrayList<>(blocks);
    MessageDigest md = cloneDigest();
    byte[] buf = newBlockBuffer();
    for (int b = 0; b < blocks; b++) {
      keys.add(hashNext(md, buf, tokens, b));
    }
    return keys;
  }

  /**
   * The keys of the full blocks of {@code tokens}.
   *
   * @throws IllegalArgumentException if a token id is negative
   */
  public List<BlockKey> hash(int[] tokens) {
    return hash(widen(tokens));
  }

  /** The 64-bit event form ({@link BlockKey#eventHash()}) of each full block's key. */
  public long[] eventHashes(long[] tokens) {
    List<BlockKey> keys = hash(tokens);
    long[] out = new long[keys.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = keys.get(i).eventHash();
    }
    return out;
  }

  /**
   * Hashes block {@code b} of {@code tokens}: the parent digest is already at {@code
   * buf[PARENT_OFFSET]}, and the new digest is written there for the next block.
   */
  private BlockKey hashNext(MessageDigest md, byte[] buf, long[] tokens, int b) {
    int pos = PARENT_OFFSET + BlockKey.BYTES;
    System.arraycopy(tokensHead, 0, buf, pos, tokensHead.length);
    pos += tokensHead.length;
    for (int i = b * blockSize, end = i + blockSize; i < end; i++) {
      pos = Cbor.uintPacked(buf, pos, tokens[i]);
    }
    byte[] extra = b == 0 ? firstExtra : laterExtra;
    System.arraycopy(extra, 0, buf, pos, extra.length);
    pos += extra.length;
    md.update(buf, 0, pos);
    try {
      md.digest(buf, PARENT_OFFSET, BlockKey.BYTES);
    } catch (DigestException e) {
      throw new IllegalStateException("SHA-256 digest did not fit 32 bytes", e);
    }
    return BlockKey.of(buf, PARENT_OFFSET);
  }

  private byte[] newBlockBuffer() {
    int max =
        PARENT_OFFSET
            + BlockKey.BYTES
            + tokensHead.length
            + blockSize * Cbor.MAX_HEAD
            + Math.max(firstExtra.length, laterExtra.length);
    byte[] buf = new byte[max];
    buf[0] = (byte) 0x83; // array of 3: parent, tokens, extra keys
    buf[1] = (byte) 0x58; // byte string, 1-byte length follows
    buf[2] = (byte) BlockKey.BYTES;
    System.arraycopy(noneHash, 0, buf, PARENT_OFFSET, BlockKey.BYTES);
    return buf;
  }

  private static long[] widen(int[] tokens) {
    Objects.requireNonNull(tokens, "tokens");
    long[] wide = new long[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0) {
        throw new IllegalArgumentException(
            "token id at index " + i + " is negative (" + tokens[i] + "): ids are unsigned");
      }
      wide[i] = tokens[i];
    }
    return wide;
  }

  private MessageDigest cloneDigest() {
    try {
      return (MessageDigest) prototype.clone();
    } catch (CloneNotSupportedException e) {
      return newDigest();
    }
  }

  private static byte[] digest(byte[] data) {
    return newDigest().digest(data);
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance(ALGORITHM);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256, which every Java SE must have", e);
    }
  }

  @Override
  public String toString() {
    return "PrefixHasher{sha256_cbor, seed='"
        + seed
        + "', blockSize="
        + blockSize
        + ", extraKeys="
        + extraKeys
        + (cacheSalt == null ? "" : ", salted")
        + '}';
  }

  /** Builds a {@link PrefixHasher}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private String seed;
    private int blockSize;
    private final List<String> extraKeys = new ArrayList<>();
    private String cacheSalt;

    private Builder() {}

    /**
     * The hash seed, as the engine's {@code PYTHONHASHSEED} spells it (a text string: {@code "42"}
     * and {@code "042"} differ). Required: vLLM without a seed uses random bytes, and its blocks
     * can be shared with no one.
     */
    public Builder seed(String seed) {
      this.seed = Objects.requireNonNull(seed, "seed");
      return this;
    }

    /** Tokens per block, at least 1 (vLLM's default is 16). Required. */
    public Builder blockSize(int blockSize) {
      if (blockSize < 1) {
        throw new IllegalArgumentException("blockSize must be at least 1, got " + blockSize);
      }
      this.blockSize = blockSize;
      return this;
    }

    /** Adds an extra key hashed into every block, such as a LoRA adapter name. */
    public Builder extraKey(String key) {
      extraKeys.add(Objects.requireNonNull(key, "extra key"));
      return this;
    }

    /** The tenant's cache salt, hashed into the first block only; null or empty for none. */
    public Builder cacheSalt(String salt) {
      this.cacheSalt = salt == null || salt.isEmpty() ? null : salt;
      return this;
    }

    /**
     * Builds the hasher.
     *
     * @throws IllegalStateException if the seed or block size was not set
     */
    public PrefixHasher build() {
      if (seed == null) {
        throw new IllegalStateException(
            "a seed is required: use the engine's PYTHONHASHSEED (vLLM hashes it to start the chain)");
      }
      if (blockSize == 0) {
        throw new IllegalStateException("a block size is required (vLLM's default is 16)");
      }
      return new PrefixHasher(this);
    }
  }
}
