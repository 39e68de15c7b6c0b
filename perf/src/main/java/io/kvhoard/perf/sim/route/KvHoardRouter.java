package io.kvhoard.perf.sim.route;

import com.google.protobuf.ByteString;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockRemoved;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.server.index.PodMatch;
import io.kvhoard.server.index.PrefixIndex;
import io.kvhoard.server.index.Scorer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code kvhoard} router: the real {@link PrefixIndex}, fed only by the simulated pods' block
 * events (as key-only {@code BlockStored}/{@code BlockRemoved}, the trace having no tokens), and
 * the real {@link Scorer}, given for load the queued prefill seconds estimated from what the pods
 * report. It never looks at {@link ClusterView#exact()}.
 *
 * <p>Load: a pod reports its outstanding requests ({@link ClusterView#outstandingRequests}, as a
 * vLLM pod reports {@code num_requests_running + waiting}). The router remembers, per pod, the
 * estimated finish time of each request it sent there (start = the previous estimated finish or the
 * arrival, plus the scorer's prefill estimate for the blocks the index says the pod held), keeps
 * the newest as many as the pod reports outstanding, and uses the last one's distance from now as
 * the pod's queued prefill seconds. So the score is, per pod, estimated prefill saved less
 * estimated wait: the estimated TTFT, the quantity the oracle minimises with exact knowledge.
 *
 * <p>Not thread-safe: one simulation thread. Closing it frees the index.
 */
final class KvHoardRouter implements Router, PodEvents, AutoCloseable {
  private static final Namespace NS = Namespace.newBuilder().setModelId("routesim").build();

  private final PrefixIndex index;
  private final Scorer scorer = Scorer.newBuilder().build();
  private final int blockTokens;
  private final List<String> names = new ArrayList<>();
  private final Map<Integer, ArrayDeque<Double>> finishes = new HashMap<>();
  private final long[] sequence = new long[1 << 16];
  private long nowNanos;

  KvHoardRouter(int blockTokens) {
    this.blockTokens = blockTokens;
    this.index =
        PrefixIndex.newBuilder()
            .capacity(1_000_000)
            .engineCapacity(1024) // key-only events need no engine-key map
            .podTtl(Duration.ofMinutes(5))
            .clock(() -> nowNanos)
            .build();
  }

  @Override
  public String id() {
    return "kvhoard";
  }

  @Override
  public PodEvents events() {
    return this;
  }

  private String name(int pod) {
    while (names.size() <= pod) {
      names.add("pod-" + names.size());
    }
    return names.get(pod);
  }

  private void clock(double seconds) {
    nowNanos = Math.max(nowNanos, (long) (seconds * 1e9));
  }

  private static BlockKey key(long k) {
    return BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, k)))
        .build();
  }

  private BlockEvent.Builder event(int pod) {
    return BlockEvent.newBuilder().setNamespace(NS).setPod(name(pod)).setSequence(++sequence[pod]);
  }

  @Override
  public void blockStored(int pod, long block, long parent, double timeSeconds) {
    clock(timeSeconds);
    index.accept(
        event(pod)
            .setStored(
                BlockStored.newBuilder()
                    .addKeys(key(block))
                    .setBlockTokens(blockTokens)
                    .setTier(Tier.TIER_GPU))
            .build());
  }

  @Override
  public void blockRemoved(int pod, long block, double timeSeconds) {
    clock(timeSeconds);
    index.accept(
        event(pod)
            .setRemoved(BlockRemoved.newBuilder().addKeys(key(block)).setTier(Tier.TIER_GPU))
            .build());
  }

  @Override
  public void loadReported(int pod, int requests, double timeSeconds) {
    clock(timeSeconds);
    index.heartbeat(name(pod));
  }

  @Override
  public int route(RouteRequest request, ClusterView cluster) {
    double now = cluster.nowSeconds();
    clock(now);
    int n = cluster.pods();
    List<String> candidates = new ArrayList<>(n);
    Map<String, Double> load = new HashMap<>();
    for (int p = 0; p < n; p++) {
      candidates.add(name(p));
      ArrayDeque<Double> q = finishes.computeIfAbsent(p, x -> new ArrayDeque<>());
      int outstanding = cluster.outstandingRequests(p);
      while (q.size() > outstanding) {
        q.pollFirst();
      }
      load.put(name(p), q.isEmpty() ? 0.0 : Math.max(0, q.peekLast() - now));
    }
    long[] keys = index.keysOfPublisherKeys(NS, request.blocks());
    List<PodMatch> matches = index.match(NS, keys, candidates);
    long hash = request.blocks().length == 0 ? 0 : request.blocks()[request.blocks().length - 1];
    hash = hash * 31 + Double.doubleToLongBits(request.arrivalSeconds());
    List<Scorer.PodScore> scores =
        scorer.score(matches, blockTokens, request.inputTokens(), load, hash);
    Scorer.PodScore best = scores.get(0);
    int pod = Integer.parseInt(best.pod().substring(4));
    double cached = Math.min(request.inputTokens(), best.tokens());
    double prefill = scorer.prefillSeconds(request.inputTokens() - cached, request.inputTokens());
    ArrayDeque<Double> q = finishes.get(pod);
    double start = q.isEmpty() ? now : Math.max(now, q.peekLast());
    q.addLast(start + prefill);
    return pod;
  }

  @Override
  public void close() {
    index.close();
  }
}
