package io.kvhoard.perf.sim.route;

/**
 * Prefill time of an 8B-class model on one H100, issue 6's model: {@code uncached / 15000 + 5.2e-10
 * * uncached * inputTokens} seconds, 15,000 tokens/s plus an attention term that about doubles a
 * 128k-token prompt. Decode time is not modelled (the TTFT is queue wait plus prefill, and
 * a pod serves one request at a time). Stateless.
 */
final class CostModel {
  static final double TOKENS_PER_SECOND = 15_000;
  static final double ATTENTION_SECONDS_PER_TOKEN_SQUARED = 5.2e-10;

  private CostModel() {}

  /** Seconds to prefill {@code uncached} of a prompt's {@code inputTokens}. */
  static double prefillSeconds(long uncached, long inputTokens) {
    return uncached / TOKENS_PER_SECOND
        + ATTENTION_SECONDS_PER_TOKEN_SQUARED * (double) uncached * inputTokens;
  }

  /** Tokens the pod must compute: the input less the held leading blocks' tokens, at least 0. */
  static long uncached(long inputTokens, int leadingBlocksHeld, int blockTokens) {
    return Math.max(0, inputTokens - (long) leadingBlocksHeld * blockTokens);
  }
}
