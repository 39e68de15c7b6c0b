package io.kvhoard.perf.sim.route;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One simulated model-server pod: a GPU KV cache of whole blocks under LRU, and a FIFO queue that
 * serves one request at a time.
 *
 * <p>Because the queue is FIFO and only finished requests change the cache, the cache a request
 * finds when it starts is the cache after every request routed here before it. So the pod applies a
 * request to its cache when it is routed (the "projected" cache) and schedules the resulting block
 * events for the request's finish time: prefill times and hits are then exactly those of an
 * event-by-event simulation, while routers that learn from events see changes only when they
 * happen. Not thread-safe: one simulation thread.
 */
final class Pod {
  /** A pod's cache changes from one request, published when it finishes. */
  record Change(
      double finishSeconds, int pod, long seq, long[] stored, long[] parents, long[] removed) {}

  private final int index;
  private final long capacityBlocks;
  private final int blockTokens;
  private final LinkedHashMap<Long, Long> cache = new LinkedHashMap<>(1024, 0.75f, true);

  /** Finish time and input tokens of each outstanding request, oldest first. */
  private final ArrayDeque<double[]> outstanding = new ArrayDeque<>();

  private double busyUntil;
  private long outstandingTokens;
  private long served;

  Pod(int index, long capacityBlocks, int blockTokens) {
    this.index = index;
    this.capacityBlocks = capacityBlocks;
    this.blockTokens = blockTokens;
  }

  /** Leading blocks held, a block counting only if all before it are held; no LRU touch. */
  int leadingBlocksHeld(long[] blocks) {
    int n = 0;
    while (n < blocks.length && cache.containsKey(blocks[n])) {
      n++;
    }
    return n;
  }

  double waitSeconds(double now) {
    return Math.max(0, busyUntil - now);
  }

  double prefillSeconds(RouteRequest r) {
    return CostModel.prefillSeconds(
        CostModel.uncached(r.inputTokens(), leadingBlocksHeld(r.blocks()), blockTokens),
        r.inputTokens());
  }

  /** Drops the requests finished by {@code now}. */
  void advance(double now) {
    while (!outstanding.isEmpty() && outstanding.peekFirst()[0] <= now) {
      outstandingTokens -= (long) outstanding.pollFirst()[1];
    }
  }

  int outstandingRequests() {
    return outstanding.size();
  }

  long outstandingTokens() {
    return outstandingTokens;
  }

  long served() {
    return served;
  }

  /**
   * Queues the request and applies it to the cache.
   *
   * @param hits receives the leading blocks held at its start in element 0
   * @return the cache change, to publish at its finish time
   */
  Change serve(RouteRequest r, double now, long seq, int[] hits) {
    int held = leadingBlocksHeld(r.blocks());
    hits[0] = held;
    double start = Math.max(now, busyUntil);
    double finish =
        start
            + CostModel.prefillSeconds(
                CostModel.uncached(r.inputTokens(), held, blockTokens), r.inputTokens());
    busyUntil = finish;
    outstanding.addLast(new double[] {finish, r.inputTokens()});
    outstandingTokens += r.inputTokens();
    served++;

    long[] blocks = r.blocks();
    List<long[]> stored = new ArrayList<>();
    List<Long> removed = new ArrayList<>();
    for (int i = 0; i < blocks.length; i++) {
      long parent = i == 0 ? blocks[0] : blocks[i - 1];
      if (cache.get(blocks[i]) == null) {
        cache.put(blocks[i], parent);
        stored.add(new long[] {blocks[i], parent});
        if (cache.size() > capacityBlocks) {
          Iterator<Map.Entry<Long, Long>> eldest = cache.entrySet().iterator();
          removed.add(eldest.next().getKey());
          eldest.remove();
        }
      }
    }
    long[] s = new long[stored.size()];
    long[] p = new long[stored.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = stored.get(i)[0];
      p[i] = stored.get(i)[1];
    }
    return new Change(
        finish, index, seq, s, p, removed.stream().mapToLong(Long::longValue).toArray());
  }

  /** Finish time of the request served last (or 0). */
  double busyUntil() {
    return busyUntil;
  }
}
