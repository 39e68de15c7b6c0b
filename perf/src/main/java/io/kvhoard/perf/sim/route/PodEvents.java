package io.kvhoard.perf.sim.route;

/**
 * What a simulated pod publishes about its GPU KV cache, in the spirit of vLLM's KV events ({@code
 * BlockStored}, {@code BlockRemoved}) and the load a pod reports with them. Each callback fires
 * when the change happens on the simulation clock (blocks are stored when the request that computed
 * them finishes its prefill), in time order across pods. A router built on kvhoard's index
 * implements this to keep its index current; it must not learn the pods' caches any other way.
 *
 * <p>Called from the simulation's single thread; implementations need not be thread-safe.
 */
public interface PodEvents {
  /** Ignores every event. */
  PodEvents NONE = new PodEvents() {};

  /**
   * The pod now holds {@code block} (a prefix key), whose parent key is {@code parent}, or {@code
   * block} itself for a prompt's first block.
   */
  default void blockStored(int pod, long block, long parent, double timeSeconds) {}

  /** The pod evicted {@code block}. */
  default void blockRemoved(int pod, long block, double timeSeconds) {}

  /** The pod's outstanding requests (queued and running) changed to {@code requests}. */
  default void loadReported(int pod, int requests, double timeSeconds) {}
}
