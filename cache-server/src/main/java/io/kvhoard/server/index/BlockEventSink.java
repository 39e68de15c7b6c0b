package io.kvhoard.server.index;

import io.kvhoard.protocol.v1.BlockEvent;

/**
 * Where event sources deliver block events: the prefix index implements it; the vLLM ZMQ source
 * ({@code index.vllm}), the gRPC {@code Publish} stream and the cache server's own store feed it.
 *
 * <p>Contract shared by every source:
 *
 * <ul>
 *   <li>{@code event.pod} is the stable pod name; {@code event.sequence} increases by one per event
 *       of that pod. A source that detects lost events and cannot replay them delivers a {@code
 *       Cleared} event for the pod (see below) before the next event it delivers.
 *   <li>{@code BlockStored} events carry the publisher's token ids and block size whenever the
 *       publisher has them; the index computes its own canonical keys from them.
 *   <li>A {@code Cleared} event whose {@code namespace} is unset means the pod lost everything, in
 *       every namespace (a restarted pod, an unrecoverable sequence gap); with a namespace, only
 *       that namespace.
 * </ul>
 *
 * <p>Implementations are thread-safe: several sources deliver concurrently. {@link #accept} does
 * not block on I/O and does not throw for a malformed event; it counts and drops it.
 */
@FunctionalInterface
public interface BlockEventSink {
  /** Applies one event. */
  void accept(BlockEvent event);
}
