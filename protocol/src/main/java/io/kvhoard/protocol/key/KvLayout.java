package io.kvhoard.protocol.key;

import java.util.Objects;

/**
 * The shape of one KV block as one engine rank stores it.
 *
 * <p>Bytes per block = 2 (K and V) × layers × KV heads on this rank × head dim × dtype bytes ×
 * block tokens. With tensor parallelism each rank holds {@code kvHeads / tpSize} heads, or one
 * replicated head when there are fewer KV heads than ranks (as vLLM does for GQA models).
 * Llama-3-8B in bf16 (32 layers, 8 KV heads, head dim 128) is 128 KiB per token, a 16-token block 2
 * MiB.
 *
 * <p>Immutable and thread-safe.
 *
 * @param layers transformer layers, at least 1
 * @param kvHeads KV heads of the whole model, at least 1
 * @param headDim head dimension, at least 1
 * @param dtype element type
 * @param blockTokens tokens per block, at least 1 (vLLM uses 16)
 * @param tpRank this rank, in {@code [0, tpSize)}
 * @param tpSize tensor-parallel ranks, at least 1
 */
public record KvLayout(
    int layers, int kvHeads, int headDim, DType dtype, int blockTokens, int tpRank, int tpSize) {

  /** Validates every field; the message names the field that is wrong. */
  public KvLayout {
    Objects.requireNonNull(dtype, "dtype");
    requirePositive("layers", layers);
    requirePositive("kvHeads", kvHeads);
    requirePositive("headDim", headDim);
    requirePositive("blockTokens", blockTokens);
    requirePositive("tpSize", tpSize);
    if (tpRank < 0 || tpRank >= tpSize) {
      throw new IllegalArgumentException(
          "tpRank must be in [0, tpSize=" + tpSize + "), got " + tpRank);
    }
    if (kvHeads % tpSize != 0 && tpSize % kvHeads != 0) {
      throw new IllegalArgumentException(
          "kvHeads ("
              + kvHeads
              + ") and tpSize ("
              + tpSize
              + ") must divide one another: heads are split evenly or replicated");
    }
    // Fails fast on a layout whose block size does not fit a long.
    Math.multiplyExact(
        Math.multiplyExact(
            Math.multiplyExact(2L * layers, (long) Math.max(1, kvHeads / tpSize)),
            (long) headDim * dtype.bytes()),
        (long) blockTokens);
  }

  /** A layout without tensor parallelism (rank 0 of 1). */
  public static KvLayout of(int layers, int kvHeads, int headDim, DType dtype, int blockTokens) {
    return new KvLayout(layers, kvHeads, headDim, dtype, blockTokens, 0, 1);
  }

  /** KV heads this rank stores. */
  public int kvHeadsPerRank() {
    return Math.max(1, kvHeads / tpSize);
  }

  /** Bytes of K and V for one token on this rank. */
  public long bytesPerToken() {
    return 2L * layers * kvHeadsPerRank() * headDim * dtype.bytes();
  }

  /** Bytes of one full block on this rank. */
  public long bytesPerBlock() {
    return bytesPerToken() * blockTokens;
  }

  private static void requirePositive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + value);
    }
  }
}
