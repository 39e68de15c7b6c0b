package io.kvhoard.perf.sim.route;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The baseline routers of issue 6, by id. Each call of {@link #create} returns a fresh router.
 *
 * <ul>
 *   <li>{@code random}: a uniformly random pod, seeded.
 *   <li>{@code round-robin}: pods in turn.
 *   <li>{@code least-loaded}: the fewest outstanding requests (queued plus running), then the
 *       fewest outstanding input tokens, remaining ties in turn (so an idle cluster is
 *       round-robin).
 *   <li>{@code longest-prefix}: the most leading blocks held per the pods' exact caches, ties to
 *       the lowest pod (so a first block every prompt shares sends everything to pod 0: the hot
 *       spot).
 *   <li>{@code oracle}: the smallest exact wait + prefill, ties to the lowest pod: the greedy
 *       limit.
 * </ul>
 *
 * <ul>
 *   <li>{@code kvhoard}: issue 6's real prefix index and scorer, fed only by {@link PodEvents} and
 *       the pods' reported outstanding requests ({@link KvHoardRouter}).
 * </ul>
 *
 * Stateless; routers it makes are not thread-safe.
 */
public final class Routers {
  /** Ids of the routers {@link #create} knows, in the order results are printed. */
  public static final List<String> IDS =
      List.of("random", "round-robin", "least-loaded", "longest-prefix", "oracle", "kvhoard");

  private Routers() {}

  /**
   * A fresh router for a trace of 512-token blocks (Mooncake's).
   *
   * @see #create(String, long, int)
   */
  public static Router create(String id, long seed) {
    return create(id, seed, 512);
  }

  /**
   * A fresh router.
   *
   * @param seed seeds {@code random}; ignored by the others
   * @param blockTokens tokens per trace block (what {@code kvhoard} counts tokens in)
   * @throws IllegalArgumentException listing the known ids, if {@code id} is not one
   */
  public static Router create(String id, long seed, int blockTokens) {
    return switch (id) {
      case "random" -> new RandomRouter(seed);
      case "round-robin" -> new RoundRobin();
      case "least-loaded" -> new LeastLoaded();
      case "longest-prefix" -> new LongestPrefix();
      case "oracle" -> new Oracle();
      case "kvhoard" -> new KvHoardRouter(blockTokens);
      default ->
          throw new IllegalArgumentException(
              "unknown router '" + id + "'; known: " + String.join(", ", IDS));
    };
  }

  private static final class RandomRouter implements Router {
    private final SplittableRandom random;

    RandomRouter(long seed) {
      random = new SplittableRandom(seed);
    }

    @Override
    public String id() {
      return "random";
    }

    @Override
    public int route(RouteRequest request, ClusterView cluster) {
      return random.nextInt(cluster.pods());
    }
  }

  private static final class RoundRobin implements Router {
    private int next;

    @Override
    public String id() {
      return "round-robin";
    }

    @Override
    public int route(RouteRequest request, ClusterView cluster) {
      int p = next % cluster.pods();
      next = p + 1;
      return p;
    }
  }

  private static final class LeastLoaded implements Router {
    private int start;

    @Override
    public String id() {
      return "least-loaded";
    }

    @Override
    public int route(RouteRequest request, ClusterView cluster) {
      int n = cluster.pods();
      int best = -1;
      for (int k = 0; k < n; k++) {
        int p = (start + k) % n;
        if (best < 0
            || cluster.outstandingRequests(p) < cluster.outstandingRequests(best)
            || (cluster.outstandingRequests(p) == cluster.outstandingRequests(best)
                && cluster.outstandingTokens(p) < cluster.outstandingTokens(best))) {
          best = p;
        }
      }
      start = (start + 1) % n;
      return best;
    }
  }

  private static final class LongestPrefix implements Router {
    @Override
    public String id() {
      return "longest-prefix";
    }

    @Override
    public int route(RouteRequest request, ClusterView cluster) {
      int best = 0;
      int bestHeld = -1;
      for (int p = 0; p < cluster.pods(); p++) {
        int held = cluster.exact().leadingBlocksHeld(p, request);
        if (held > bestHeld) {
          best = p;
          bestHeld = held;
        }
      }
      return best;
    }
  }

  private static final class Oracle implements Router {
    @Override
    public String id() {
      return "oracle";
    }

    @Override
    public int route(RouteRequest request, ClusterView cluster) {
      int best = 0;
      double bestCost = Double.POSITIVE_INFINITY;
      for (int p = 0; p < cluster.pods(); p++) {
        double cost = cluster.exact().waitSeconds(p) + cluster.exact().prefillSeconds(p, request);
        if (cost < bestCost) {
          best = p;
          bestCost = cost;
        }
      }
      return best;
    }
  }
}
