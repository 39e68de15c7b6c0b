package io.kvhoard.perf.sim.route;

import io.kvhoard.perf.sim.Trace;
import java.util.Arrays;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.stream.IntStream;

/**
 * Replays a trace against N {@link Pod}s through one {@link Router}: issue 6's routing simulator.
 *
 * <p>Design. Requests arrive at their trace timestamps divided by the rate scale, in timestamp
 * order (ties in file order). Before each arrival the pods' cache changes that finished by then are
 * delivered to the router's {@link PodEvents}, in finish order, like vLLM's KV event stream
 * (llm-d's kv-cache-manager builds its index from exactly these BlockStored/BlockRemoved events).
 * The router then picks a pod; the pod queues the request FIFO, one at a time. Prefill costs {@link
 * CostModel} (issue 6's 8B-on-H100 model) for the tokens not covered by the leading blocks the pod
 * holds when the request starts; TTFT = queue wait + prefill. Decode is not modelled: a pod is free
 * again as soon as a prefill ends (the TTFT model; decode would add the same load to every
 * router's pods). The cluster hit ratio is leading-block hits over all blocks. Percentiles are
 * exact (nearest rank over the sorted TTFTs).
 *
 * <p>Not thread-safe; {@link #run} is a pure function of its arguments and the router's state.
 */
public final class RouteSimulation {
  /**
   * One router's figures.
   *
   * @param router the router's id
   * @param hitRatio leading-block hits / blocks, over the cluster
   * @param ttftP50Seconds median TTFT
   * @param ttftP90Seconds 90th-percentile TTFT
   * @param ttftP99Seconds 99th-percentile TTFT
   * @param maxOverMeanLoad the busiest pod's requests over the mean per pod
   * @param requestsPerPod requests served by each pod
   */
  public record Result(
      String router,
      double hitRatio,
      double ttftP50Seconds,
      double ttftP90Seconds,
      double ttftP99Seconds,
      double maxOverMeanLoad,
      long[] requestsPerPod) {}

  private RouteSimulation() {}

  /**
   * Runs the whole trace.
   *
   * @param pods number of pods, at least 1
   * @param capacityTokens each pod's GPU KV capacity; it holds {@code capacityTokens /
   *     trace.blockTokens()} whole blocks, at least 1
   * @param rateScale arrival times are the trace's divided by this, positive
   * @throws IllegalArgumentException if an argument is out of range, or the router picks no pod
   */
  public static Result run(
      Trace trace, int pods, long capacityTokens, double rateScale, Router router) {
    if (pods < 1) {
      throw new IllegalArgumentException("pods must be at least 1, was " + pods);
    }
    long capacityBlocks = capacityTokens / trace.blockTokens();
    if (capacityBlocks < 1) {
      throw new IllegalArgumentException(
          "capacity of "
              + capacityTokens
              + " tokens holds no block of "
              + trace.blockTokens()
              + " tokens");
    }
    if (!(rateScale > 0) || Double.isInfinite(rateScale)) {
      throw new IllegalArgumentException("rate scale must be positive, was " + rateScale);
    }
    Pod[] pod = new Pod[pods];
    for (int i = 0; i < pods; i++) {
      pod[i] = new Pod(i, capacityBlocks, trace.blockTokens());
    }
    PodEvents events = router.events();
    PriorityQueue<Pod.Change> pending =
        new PriorityQueue<>(
            Comparator.comparingDouble(Pod.Change::finishSeconds)
                .thenComparingLong(Pod.Change::seq));
    View view = new View(pod);
    int[] order =
        IntStream.range(0, trace.requests())
            .boxed()
            .sorted(Comparator.comparingLong(trace::timestampMs))
            .mapToInt(Integer::intValue)
            .toArray();
    double[] ttft = new double[order.length];
    long hits = 0;
    long blocks = 0;
    int[] held = new int[1];
    for (int k = 0; k < order.length; k++) {
      int r = order[k];
      double now = trace.timestampMs(r) / 1000.0 / rateScale;
      while (!pending.isEmpty() && pending.peek().finishSeconds() <= now) {
        publish(pending.poll(), pod, events);
      }
      for (Pod p : pod) {
        p.advance(now);
      }
      RouteRequest req = new RouteRequest(trace.blocks(r), trace.inputTokens(r), now);
      view.now = now;
      int chosen = router.route(req, view);
      if (chosen < 0 || chosen >= pods) {
        throw new IllegalArgumentException(
            "router " + router.id() + " chose pod " + chosen + " of " + pods);
      }
      Pod.Change change = pod[chosen].serve(req, now, k, held);
      pending.add(change);
      events.loadReported(chosen, pod[chosen].outstandingRequests(), now);
      hits += held[0];
      blocks += req.blocks().length;
      ttft[k] = change.finishSeconds() - now;
    }
    while (!pending.isEmpty()) {
      publish(pending.poll(), pod, events);
    }
    Arrays.sort(ttft);
    long[] served = new long[pods];
    long max = 0;
    for (int i = 0; i < pods; i++) {
      served[i] = pod[i].served();
      max = Math.max(max, served[i]);
    }
    double mean = (double) order.length / pods;
    return new Result(
        router.id(),
        blocks == 0 ? 0 : (double) hits / blocks,
        percentile(ttft, 0.50),
        percentile(ttft, 0.90),
        percentile(ttft, 0.99),
        max / mean,
        served);
  }

  private static void publish(Pod.Change c, Pod[] pod, PodEvents events) {
    double t = c.finishSeconds();
    for (int i = 0; i < c.blocks().length; i++) {
      if (c.parents()[i] == Pod.Change.REMOVED) {
        events.blockRemoved(c.pod(), c.blocks()[i], t);
      } else {
        events.blockStored(c.pod(), c.blocks()[i], c.parents()[i], t);
      }
    }
    pod[c.pod()].advance(t);
    events.loadReported(c.pod(), pod[c.pod()].outstandingRequests(), t);
  }

  /** Nearest rank: the smallest value with at least {@code p} of the sorted values at or below. */
  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  /** The live view handed to routers. */
  private static final class View implements ClusterView, ClusterView.Exact {
    private final Pod[] pod;
    private double now;

    View(Pod[] pod) {
      this.pod = pod;
    }

    @Override
    public int pods() {
      return pod.length;
    }

    @Override
    public double nowSeconds() {
      return now;
    }

    @Override
    public int outstandingRequests(int p) {
      return pod[p].outstandingRequests();
    }

    @Override
    public long outstandingTokens(int p) {
      return pod[p].outstandingTokens();
    }

    @Override
    public Exact exact() {
      return this;
    }

    @Override
    public int leadingBlocksHeld(int p, RouteRequest request) {
      return pod[p].leadingBlocksHeld(request.blocks());
    }

    @Override
    public double waitSeconds(int p) {
      return pod[p].waitSeconds(now);
    }

    @Override
    public double prefillSeconds(int p, RouteRequest request) {
      return pod[p].prefillSeconds(request);
    }
  }
}
