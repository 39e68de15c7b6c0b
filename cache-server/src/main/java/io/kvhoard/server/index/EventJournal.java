package io.kvhoard.server.index;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.Namespace;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The recent block events of each pod, bounded, for followers ({@code IndexService.Follow}): a
 * follower gets the buffered events after the sequence it resumes from, then every new event as it
 * is accepted. A follower that resumes from a sequence older than the buffer's oldest has lost
 * events; it sees the gap in the sequence numbers and should clear and rebuild what it holds of
 * that pod (as the index does for vLLM's replay buffer).
 *
 * <p>Thread-safe: events are appended and delivered under one lock, so every follower sees each
 * pod's events in order. Listeners run under that lock and must not block.
 */
public final class EventJournal implements BlockEventSink {
  private final int perPod;
  private final Map<String, ArrayDeque<BlockEvent>> recent = new HashMap<>(); // guarded by this
  private final List<Follower> followers = new CopyOnWriteArrayList<>();

  /**
   * @param eventsPerPod events kept per pod, at least 1
   */
  public EventJournal(int eventsPerPod) {
    if (eventsPerPod < 1) {
      throw new IllegalArgumentException("eventsPerPod must be at least 1, got " + eventsPerPod);
    }
    this.perPod = eventsPerPod;
  }

  @Override
  public synchronized void accept(BlockEvent event) {
    ArrayDeque<BlockEvent> q = recent.computeIfAbsent(event.getPod(), p -> new ArrayDeque<>());
    if (q.size() == perPod) {
      q.pollFirst();
    }
    q.addLast(event);
    for (Follower f : followers) {
      f.offer(event);
    }
  }

  /**
   * Replays the buffered events after each pod's resume point (every buffered event of a pod not
   * listed), then follows new events, until the returned handle is closed.
   *
   * @param namespace only events of this namespace (and {@code Cleared} events without one), or
   *     {@code null} for all
   * @param resumeAfter per pod, the last sequence the follower has
   */
  public synchronized AutoCloseable follow(
      Namespace namespace, Map<String, Long> resumeAfter, Consumer<BlockEvent> listener) {
    Follower f = new Follower(namespace, listener);
    for (Map.Entry<String, ArrayDeque<BlockEvent>> e : recent.entrySet()) {
      long after = resumeAfter.getOrDefault(e.getKey(), -1L);
      for (BlockEvent ev : e.getValue()) {
        if (after < 0 || Long.compareUnsigned(ev.getSequence(), after) > 0) {
          f.offer(ev);
        }
      }
    }
    followers.add(f);
    return () -> followers.remove(f);
  }

  /** Followers now. */
  public int followers() {
    return followers.size();
  }

  private record Follower(Namespace namespace, Consumer<BlockEvent> listener) {
    void offer(BlockEvent e) {
      if (namespace == null
          || (e.hasNamespace() ? sameRouting(namespace, e.getNamespace()) : e.hasCleared())) {
        listener.accept(e);
      }
    }

    private static boolean sameRouting(Namespace a, Namespace b) {
      return a.getModelId().equals(b.getModelId())
          && a.getLoraName().equals(b.getLoraName())
          && a.getCacheSalt().equals(b.getCacheSalt());
    }
  }
}
