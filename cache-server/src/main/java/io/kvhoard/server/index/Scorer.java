package io.kvhoard.server.index;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Routing scores from prefix matches and load: the estimated prefill time a pod saves with the
 * blocks it holds, less the time the request would wait in its queue, both in seconds; the highest
 * score is the pod with the lowest estimated time to first token.
 *
 * <p>Formula. For a prompt of {@code N} tokens and a pod holding {@code g}, {@code h}, {@code d}
 * leading blocks of {@code B} tokens on GPU, host and disk:
 *
 * <pre>
 *   cached = min(N, B * (wGpu*g + wHost*h + wDisk*d))
 *   prefill(u) = u / tokensPerSecond + attention * u * N           (seconds to compute u tokens)
 *   score = prefill(N) - prefill(N - cached) - load * loadUnitSeconds
 * </pre>
 *
 * so {@code -score + prefill(N)} is the estimated TTFT (queue wait + prefill of the uncached
 * tokens) and the best pod minimises it. Ties (equal score: pods with the same useful prefix and
 * the same load) go to the lower load, then to the highest hash of (request, pod): a rendezvous
 * choice that spreads different requests over equal pods and never favours a pod for its name or
 * position, so one system prompt held everywhere does not pull traffic to one pod; and as soon as
 * the pod holding a shared prefix has a queue, its load outweighs the few blocks it saves.
 *
 * <p>Sources. Dynamo's KV router scores a worker by {@code overlap_weight * prefill_blocks +
 * decode_blocks} (a cost in blocks: the prefill it must still do plus the work it already has); the
 * same shape here, in seconds, with the prefill cost model of issue 6 (an 8B model on one H100:
 * 15,000 tokens/s plus an attention term). llm-d's scheduler combines a prefix-cache scorer with
 * queue and KV-utilisation scorers by weights; SGLang's cache-aware load balancer routes by prefix
 * match unless the load imbalance passes a threshold. Making both terms seconds removes the weights
 * and thresholds those need tuned. Tier weights discount blocks that must first be copied to the
 * GPU: host RAM over PCIe moves KV about an order of magnitude faster than an 8B model prefills
 * (LMCache's CPU offloading), local NVMe a few times faster; defaults GPU 1, host 0.9, disk 0.6.
 *
 * <p>Immutable and thread-safe.
 */
public final class Scorer {
  private final double gpuWeight;
  private final double hostWeight;
  private final double diskWeight;
  private final double tokensPerSecond;
  private final double attention;
  private final double loadUnitSeconds;

  private Scorer(Builder b) {
    this.gpuWeight = b.gpu;
    this.hostWeight = b.host;
    this.diskWeight = b.disk;
    this.tokensPerSecond = b.tokensPerSecond;
    this.attention = b.attention;
    this.loadUnitSeconds = b.loadUnitSeconds;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * One pod's score.
   *
   * @param pod the pod name
   * @param blocks leading blocks held
   * @param tokens the same in tokens
   * @param gpu leading blocks held on the GPU
   * @param host held in host RAM (not on the GPU)
   * @param disk held only on disk
   * @param load the load used (as given, before {@code loadUnitSeconds})
   * @param score estimated seconds saved less seconds of queue; higher is better
   */
  public record PodScore(
      String pod,
      int blocks,
      long tokens,
      int gpu,
      int host,
      int disk,
      double load,
      double score) {}

  /** Seconds to prefill {@code uncached} tokens of a prompt of {@code inputTokens}. */
  public double prefillSeconds(double uncached, long inputTokens) {
    return uncached / tokensPerSecond + attention * uncached * inputTokens;
  }

  /**
   * Scores pods, best first.
   *
   * @param matches the index's matches for the prompt
   * @param blockTokens tokens per block of the matches
   * @param inputTokens the prompt's length in tokens; 0 or less for blocks x block tokens of the
   *     longest match (a prompt given by keys)
   * @param load per pod, in units of {@code loadUnitSeconds} (queued prefill seconds when 1); a pod
   *     not in the map has load 0
   * @param requestHash any hash of the request, for ties
   */
  public List<PodScore> score(
      List<PodMatch> matches,
      int blockTokens,
      long inputTokens,
      Map<String, Double> load,
      long requestHash) {
    long input = inputTokens;
    if (input <= 0) {
      for (PodMatch m : matches) {
        input = Math.max(input, (long) m.blocks() * blockTokens);
      }
    }
    List<PodScore> out = new ArrayList<>(matches.size());
    double full = prefillSeconds(input, input);
    for (PodMatch m : matches) {
      double cached =
          Math.min(
              input,
              blockTokens * (gpuWeight * m.gpu() + hostWeight * m.host() + diskWeight * m.disk()));
      Double l = load.get(m.pod());
      double podLoad = l == null || !(l >= 0) ? 0 : l;
      double score = full - prefillSeconds(input - cached, input) - podLoad * loadUnitSeconds;
      out.add(
          new PodScore(
              m.pod(),
              m.blocks(),
              (long) m.blocks() * blockTokens,
              m.gpu(),
              m.host(),
              m.disk(),
              podLoad,
              score));
    }
    out.sort(order(requestHash));
    return out;
  }

  private static Comparator<PodScore> order(long requestHash) {
    return Comparator.comparingDouble((PodScore s) -> -s.score())
        .thenComparingDouble(PodScore::load)
        .thenComparingLong(s -> -tieHash(requestHash, s.pod()))
        .thenComparing(PodScore::pod);
  }

  /** Rendezvous hash of (request, pod). */
  static long tieHash(long requestHash, String pod) {
    long z = requestHash ^ (pod.hashCode() * 0x9E37_79B9_7F4A_7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
    return z ^ (z >>> 31);
  }

  /** Configures a {@link Scorer}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private double gpu = 1.0;
    private double host = 0.9;
    private double disk = 0.6;
    private double tokensPerSecond = 15_000;
    private double attention = 5.2e-10;
    private double loadUnitSeconds = 1.0;

    private Builder() {}

    /** Weights of a block held per tier, {@code 1 >= gpu >= host >= disk >= 0}. */
    public Builder tierWeights(double gpu, double host, double disk) {
      if (!(gpu <= 1 && gpu >= host && host >= disk && disk >= 0)) {
        throw new IllegalArgumentException(
            "tier weights must satisfy 1 >= gpu >= host >= disk >= 0, got "
                + gpu
                + ", "
                + host
                + ", "
                + disk);
      }
      this.gpu = gpu;
      this.host = host;
      this.disk = disk;
      return this;
    }

    /**
     * The prefill cost model: {@code u / tokensPerSecond + attention * u * N} seconds for {@code u}
     * uncached tokens of {@code N} (default 15,000 tokens/s and 5.2e-10, an 8B model on one H100).
     */
    public Builder prefillModel(double tokensPerSecond, double attention) {
      if (!(tokensPerSecond > 0) || Double.isInfinite(tokensPerSecond) || !(attention >= 0)) {
        throw new IllegalArgumentException(
            "prefill model needs tokensPerSecond > 0 and attention >= 0, got "
                + tokensPerSecond
                + ", "
                + attention);
      }
      this.tokensPerSecond = tokensPerSecond;
      this.attention = attention;
      return this;
    }

    /**
     * Seconds one unit of reported load costs (default 1: load is queued prefill seconds; give the
     * mean prefill time of a request when load is a queue length).
     */
    public Builder loadUnitSeconds(double seconds) {
      if (!(seconds >= 0) || Double.isInfinite(seconds)) {
        throw new IllegalArgumentException("loadUnitSeconds must be >= 0, got " + seconds);
      }
      this.loadUnitSeconds = seconds;
      return this;
    }

    public Scorer build() {
      return new Scorer(this);
    }
  }
}
