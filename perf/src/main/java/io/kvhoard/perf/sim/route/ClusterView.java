package io.kvhoard.perf.sim.route;

/**
 * What a router may ask about the pods at the moment it routes. The load methods are what pods
 * report to any router; {@link #exact} opens the simulator's ground truth (each pod's exact cache
 * and queue), which only the omniscient baselines ({@code longest-prefix}, {@code oracle}) use. A
 * realistic router such as kvhoard's learns caches from {@link PodEvents} instead.
 *
 * <p>Valid only during the {@link Router#route} call it was passed to.
 */
public interface ClusterView {
  /** Number of pods; pods are 0 to {@code pods() - 1}. */
  int pods();

  /** The current time on the simulation clock, in seconds. */
  double nowSeconds();

  /** Requests routed to the pod and not yet finished (queued plus running). */
  int outstandingRequests(int pod);

  /** Input tokens of the pod's outstanding requests. */
  long outstandingTokens(int pod);

  /** The simulator's ground truth, for omniscient routers. */
  Exact exact();

  /** Ground truth about each pod. */
  interface Exact {
    /**
     * Leading blocks of {@code request} the pod will hold when the request starts (its cache after
     * the requests queued before it), counting a block only if every block before it is held.
     */
    int leadingBlocksHeld(int pod, RouteRequest request);

    /** Seconds until the pod would start a request arriving now. */
    double waitSeconds(int pod);

    /** Seconds the pod would spend on the request's prefill, given {@link #leadingBlocksHeld}. */
    double prefillSeconds(int pod, RouteRequest request);
  }
}
