package io.kvhoard.server.index;

import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.Namespace;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * What the score APIs (gRPC {@code Score}, HTTP {@code POST /v1/score}) run: a prompt's canonical
 * keys, the index's matches and the scorer's ranking, timed.
 *
 * <p>Thread-safe (the index and scorer are).
 */
public final class Scoring {
  private final PrefixIndex index;
  private final Scorer scorer;
  private final LongConsumer latencyNanos;

  /**
   * @param latencyNanos receives each query's duration (a timer), or does nothing
   */
  public Scoring(PrefixIndex index, Scorer scorer, LongConsumer latencyNanos) {
    this.index = Objects.requireNonNull(index, "index");
    this.scorer = Objects.requireNonNull(scorer, "scorer");
    this.latencyNanos = Objects.requireNonNull(latencyNanos, "latencyNanos");
  }

  public PrefixIndex index() {
    return index;
  }

  /** Scores pods for a prompt given by token ids; best first. */
  public List<Scorer.PodScore> forTokens(
      Namespace ns, long[] tokenIds, Collection<String> pods, Map<String, Double> load) {
    long start = System.nanoTime();
    long[] hash = new long[1];
    List<PodMatch> matches = index.matchTokens(ns, tokenIds, tokenIds.length, pods, hash);
    List<Scorer.PodScore> out =
        scorer.score(matches, index.blockTokens(), tokenIds.length, load, hash[0]);
    latencyNanos.accept(System.nanoTime() - start);
    return out;
  }

  /**
   * Scores pods for a prompt given by publisher block keys (matched against key-only events);
   * tokens count in the block size those publishers declared, else the index's.
   *
   * @throws IllegalArgumentException if a key is empty or longer than 32 bytes
   */
  public List<Scorer.PodScore> forKeys(
      Namespace ns, List<BlockKey> keys, Collection<String> pods, Map<String, Double> load) {
    for (int i = 0; i < keys.size(); i++) {
      int n = keys.get(i).getDigest().size();
      if (n < 1 || n > 32) {
        throw new IllegalArgumentException(
            "key " + i + " has " + n + " bytes; publisher keys have 1 to 32");
      }
    }
    long start = System.nanoTime();
    long[] canonical = index.keysOfPublisherKeys(ns, keys);
    int bt = index.publisherBlockTokens(ns);
    if (bt == 0) {
      bt = index.blockTokens();
    }
    long hash = canonical.length == 0 ? 0 : canonical[canonical.length - 1];
    List<Scorer.PodScore> out =
        scorer.score(
            index.match(ns, canonical, pods), bt, (long) canonical.length * bt, load, hash);
    latencyNanos.accept(System.nanoTime() - start);
    return out;
  }
}
