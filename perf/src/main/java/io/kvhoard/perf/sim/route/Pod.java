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
 * happen. A request's own held blocks are touched before its new blocks are inserted, so they are
 * not evicted to make room for it (vLLM does not free a running request's blocks); events keep the
 * order of the changes, since a block can be evicted and stored again by one request. Not
 * thread-safe: one simulation thread.
 */
final class Pod {
  /**
   * A pod's cache changes from one request, in the order they happened, published when it finishes:
   * {@code blocks[i]} was stored (with parent {@code parents[i]}) or, where {@code parents[i] ==
   * REMOVED}, evicted.
   */
  record Change(double finishSeconds, int pod, long seq, long[] blocks, long[] parents) {
    static final long REMOVED = Long.MIN_VALUE;

    long[] stored() {
      return select(false);
    }

    long[] removed() {
      return select(true);
    }

    private long[] select(boolean removed) {
      List<Long> out = new ArrayList<>();
      for (int i = 0; i < blocks.length; i++) {
        if ((parents[i] == REMOVED) == removed) {
          out.add(blocks[i]);
        }
      }
      return out.stream().mapToLong(Long::longValue).toArray();
    }
  }

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

    // The request's cached blocks are in use while it runs, so they are touched first and its new
    // blocks evict other requests' blocks (vLLM does not free a running request's blocks).
    long[] blocks = r.blocks();
    for (long b : blocks) {
      cache.get(b);
    }
    List<long[]> ops = new ArrayList<>();
    for (int i = 0; i < blocks.length; i++) {
      long parent = i == 0 ? blocks[0] : blocks[i - 1];
      if (!cache.containsKey(blocks[i])) {
        cache.put(blocks[i], parent);
        ops.add(new long[] {blocks[i], parent});
        if (cache.size() > capacityBlocks) {
          Iterator<Map.Entry<Long, Long>> eldest = cache.entrySet().iterator();
          ops.add(new long[] {eldest.next().getKey(), Change.REMOVED});
          eldest.remove();
        }
      }
    }
    long[] keys = new long[ops.size()];
    long[] parents = new long[ops.size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = ops.get(i)[0];
      parents[i] = ops.get(i)[1];
    }
    return new Change(finish, index, seq, keys, parents);
  }

  /** Finish time of the request served last (or 0). */
  double busyUntil() {
    return busyUntil;
  }
}
