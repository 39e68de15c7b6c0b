package io.kvhoard.perf.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.perf.ReferenceData;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.PrefixHasher;
import java.io.IOException;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Prefix hashing throughput in tokens/s ({@link PrefixHasher}: canonical CBOR + SHA-256 per block)
 * against the limit, {@link MessageDigest} SHA-256 over the very same encoded bytes, prepared in
 * advance. Goal: {@code hash} ≥ 0.7 × {@code baselineSha256} (encoding must not dominate).
 *
 * <p>The prompt is 4,096 tokens ({@link #tokenIds}: real text or uniform ids), cut into blocks of
 * 16 (vLLM) or 256 (a storage chunk). Setup proves the baseline hashes the same bytes: its chained
 * digests must equal the hasher's keys.
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro PrefixHash}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PrefixHashBenchmark {
  static final int TOKENS = 4096;

  @Param({"16", "256"})
  public int blockSize;

  /**
   * {@code text}: the real token ids of the vLLM vector prompt (Qwen3 tokenizer), tiled; {@code
   * uniform}: ids drawn uniformly below 151,936 (Qwen's vocabulary), the worst case for CBOR's
   * variable-width integers.
   */
  @Param({"text", "uniform"})
  public String tokenIds;

  private long[] tokens;
  private PrefixHasher hasher;
  private byte[][] encoded;
  private MessageDigest sha256;
  private final byte[] digest = new byte[32];

  @Setup
  public void setup() throws NoSuchAlgorithmException, DigestException, IOException {
    tokens = tokens(tokenIds);
    hasher = PrefixHasher.newBuilder().seed("42").blockSize(blockSize).build();
    sha256 = MessageDigest.getInstance("SHA-256");
    encoded = encodeChain(hasher, tokens, blockSize, sha256);
    List<BlockKey> keys = hasher.hash(tokens);
    for (int b = 0; b < encoded.length; b++) {
      sha256.update(encoded[b]);
      sha256.digest(digest, 0, 32);
      if (!BlockKey.of(digest).equals(keys.get(b))) {
        throw new IllegalStateException("baseline bytes differ from the hasher's at block " + b);
      }
    }
  }

  static long[] tokens(String kind) throws IOException {
    if (kind.equals("uniform")) {
      return new SplittableRandom(42).longs(TOKENS, 0, 151_936).toArray();
    }
    if (!kind.equals("text")) {
      throw new IllegalArgumentException("tokenIds must be text or uniform, got " + kind);
    }
    JsonNode ids =
        new ObjectMapper()
            .readTree(ReferenceData.path("vectors/kv_event_base.json").toFile())
            .get("token_ids");
    long[] out = new long[TOKENS];
    for (int i = 0; i < TOKENS; i++) {
      out[i] = ids.get(i % ids.size()).asLong();
    }
    return out;
  }

  /** Ours: encode and hash every full block of the prompt. */
  @Benchmark
  @OperationsPerInvocation(TOKENS)
  public List<BlockKey> hash() {
    return hasher.hash(tokens);
  }

  /** The limit: SHA-256 alone over the same bytes, encoded in advance. */
  @Benchmark
  @OperationsPerInvocation(TOKENS)
  public byte[] baselineSha256() throws DigestException {
    for (byte[] block : encoded) {
      sha256.update(block);
      sha256.digest(digest, 0, 32);
    }
    return digest;
  }

  /**
   * Encodes each block as vLLM does, {@code [parent bstr32, [tokens], null]} in canonical CBOR,
   * written here independently of the hasher so the baseline is not the code under test.
   */
  static byte[][] encodeChain(PrefixHasher h, long[] tokens, int blockSize, MessageDigest md)
      throws DigestException {
    int blocks = tokens.length / blockSize;
    byte[][] out = new byte[blocks][];
    byte[] parent = h.noneHash().toBytes();
    for (int b = 0; b < blocks; b++) {
      byte[] buf = new byte[3 + 32 + 9 + 9 * blockSize + 1];
      int p = 0;
      buf[p++] = (byte) 0x83;
      buf[p++] = (byte) 0x58;
      buf[p++] = 32;
      System.arraycopy(parent, 0, buf, p, 32);
      p += 32;
      p = cborHead(buf, p, 4, blockSize);
      for (int i = 0; i < blockSize; i++) {
        p = cborHead(buf, p, 0, tokens[b * blockSize + i]);
      }
      buf[p++] = (byte) 0xF6;
      out[b] = Arrays.copyOf(buf, p);
      md.update(out[b]);
      md.digest(parent, 0, 32);
    }
    return out;
  }

  private static int cborHead(byte[] buf, int p, int major, long v) {
    int mt = major << 5;
    if (v < 24) {
      buf[p++] = (byte) (mt | v);
    } else if (v < 0x100) {
      buf[p++] = (byte) (mt | 24);
      buf[p++] = (byte) v;
    } else if (v < 0x10000) {
      buf[p++] = (byte) (mt | 25);
      buf[p++] = (byte) (v >> 8);
      buf[p++] = (byte) v;
    } else {
      buf[p++] = (byte) (mt | 26);
      for (int s = 24; s >= 0; s -= 8) {
        buf[p++] = (byte) (v >> s);
      }
    }
    return p;
  }
}
