package io.kvhoard.perf.sim.route;

/**
 * Chooses a pod for each request: the routing simulator's SPI. The simulator calls {@link #route}
 * once per request in arrival order, and delivers every pod event that happened up to the arrival
 * to {@link #events()} first.
 *
 * <p>Extension point for issue 6's {@code kvhoard} router (not implemented here): it returns its
 * index's {@link PodEvents} adapter from {@link #events()} (BlockStored/BlockRemoved fill the
 * index, loadReported the load), and in {@link #route} scores the pods with the real scorer, using
 * only the index and {@link ClusterView}'s load methods, never {@link ClusterView#exact()}. Add it
 * to {@link Routers} under the id {@code kvhoard}.
 *
 * <p>Instances are used by one simulation on one thread and need not be thread-safe.
 */
public interface Router {
  /** The id printed in results, e.g. {@code round-robin}. */
  String id();

  /**
   * Picks the pod that serves the request.
   *
   * @return a pod in {@code [0, cluster.pods())}
   */
  int route(RouteRequest request, ClusterView cluster);

  /** Where the simulator sends pod events; {@link PodEvents#NONE} if the router ignores them. */
  default PodEvents events() {
    return PodEvents.NONE;
  }
}
