package io.kvhoard.server.index.vllm;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.index.BlockEventSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayDeque;

/**
 * One pod's event stream: orders its batches by sequence number, recovers gaps through the pod's
 * replay socket, and clears the pod when it cannot. No I/O of its own: the source feeds it the
 * messages its sockets receive, and it asks a {@link ReplayChannel} for replays.
 *
 * <p>Design (vLLM's {@code ZmqEventPublisher} and its example subscriber, {@code
 * examples/online_serving/kv_events_subscriber.py}): a batch's sequence number increases by one per
 * batch. The first batch seen is taken as it is (nothing earlier is known to the index). A batch
 * after {@code last + 1} is a gap: the stream asks the replay socket for everything from {@code
 * last + 1}, holds the live batches that arrive meanwhile, applies the replayed ones below the
 * first held one, and on the end marker (-1) resumes with the held ones. If the replay does not end
 * before the deadline, or the pod has no replay socket, or the replay buffer no longer holds {@code
 * last + 1}, the events are lost: the index is told with a {@code Cleared} for the whole pod before
 * the next event. A batch at or below {@code last} means the publisher restarted (its sequence
 * starts at 0 again, and a restarted engine has an empty cache): {@code Cleared}, then the batch.
 *
 * <p>Not thread-safe: confined to the source's loop thread.
 */
final class PodStream {
  private static final System.Logger LOG = System.getLogger(PodStream.class.getName());

  /** Live batches held during a replay, at most; past this the replay is abandoned. */
  static final int MAX_HELD = 100_000;

  /** Talks to the pod's replay socket. */
  interface ReplayChannel {
    /** Asks for every buffered batch from {@code fromSeq}; false if it cannot be asked now. */
    boolean request(long fromSeq);

    /** Forgets a request in flight: a late answer to it must not be taken for a new one. */
    void reset();
  }

  private record Held(long seq, byte[] topic, byte[] payload) {}

  private final VllmEventDecoder decoder;
  private final BlockEventSink sink;
  private final ReplayChannel replay;
  private final long timeoutMillis;
  private final Clock clock;
  private final Counter gaps;
  private final Counter restarts;
  private final Counter clears;
  private final Counter replayOk;
  private final Counter replayIncomplete;
  private final Counter replayFailed;
  private final Counter sinkErrors;
  private final ArrayDeque<Held> held = new ArrayDeque<>();

  private long last = -1;
  private byte[] lastTopic = new byte[0];
  private boolean replaying;
  private long deadline;

  /**
   * @param replay the pod's replay channel, or {@code null} if it has none
   */
  PodStream(
      VllmEventDecoder decoder,
      BlockEventSink sink,
      ReplayChannel replay,
      long timeoutMillis,
      Clock clock,
      MeterRegistry registry) {
    this.decoder = decoder;
    this.sink = sink;
    this.replay = replay;
    this.timeoutMillis = timeoutMillis;
    this.clock = clock;
    String pod = decoder.pod();
    this.gaps = counter(registry, "kvhoard.vllm.gaps", "Sequence gaps detected", pod, "");
    this.restarts =
        counter(registry, "kvhoard.vllm.restarts", "Publisher restarts detected", pod, "");
    this.clears =
        counter(registry, "kvhoard.vllm.clears", "Pods cleared for events that were lost", pod, "");
    String replays = "kvhoard.vllm.replays";
    this.replayOk = counter(registry, replays, "Replays by outcome", pod, "ok");
    this.replayIncomplete = counter(registry, replays, "Replays by outcome", pod, "incomplete");
    this.replayFailed = counter(registry, replays, "Replays by outcome", pod, "failed");
    this.sinkErrors =
        counter(registry, "kvhoard.vllm.sink.errors", "Events the sink threw on", pod, "");
  }

  private static Counter counter(
      MeterRegistry r, String name, String description, String pod, String outcome) {
    Counter.Builder c = Counter.builder(name).description(description).tag("pod", pod);
    if (!outcome.isEmpty()) {
      c.tag("outcome", outcome);
    }
    return c.register(r);
  }

  String pod() {
    return decoder.pod();
  }

  /** The last sequence number applied; -1 before the first. */
  long last() {
    return last;
  }

  boolean replaying() {
    return replaying;
  }

  /** A batch from the PUB socket. */
  void onLive(long seq, byte[] topic, byte[] payload) {
    if (replaying) {
      held.addLast(new Held(seq, topic, payload));
      if (held.size() > MAX_HELD) {
        failReplay("more than " + MAX_HELD + " live batches arrived during the replay");
      }
      return;
    }
    accept(new Held(seq, topic, payload));
  }

  /** A reply from the replay socket: {@code (seq, payload)}, or {@code (-1, "")} at the end. */
  void onReplay(long seq, byte[] payload) {
    if (!replaying) {
      return; // a late answer to an abandoned request
    }
    if (seq == -1) {
      finishReplay();
      return;
    }
    long firstHeld = held.peekFirst().seq();
    if (seq <= last || seq >= firstHeld) {
      return; // already applied, or held live
    }
    if (seq != last + 1) {
      // The replay buffer starts after what was lost.
      clear();
    }
    deliver(new Held(seq, lastTopic, payload));
  }

  /** Called by the loop between polls: abandons a replay past its deadline. */
  void onTick() {
    if (replaying && clock.millis() >= deadline) {
      failReplay("no end of replay within " + timeoutMillis + " ms");
    }
  }

  /** When the current replay must end, or {@code Long.MAX_VALUE} if none is in flight. */
  long deadline() {
    return replaying ? deadline : Long.MAX_VALUE;
  }

  private void accept(Held m) {
    if (last < 0 || m.seq() == last + 1) {
      deliver(m);
    } else if (m.seq() <= last) {
      restarts.increment();
      LOG.log(
          Level.INFO,
          "vLLM pod " + pod() + " restarted its sequence (" + last + " then " + m.seq() + ")");
      clear();
      deliver(m);
    } else {
      gaps.increment();
      if (replay != null && replay.request(last + 1)) {
        replaying = true;
        deadline = clock.millis() + timeoutMillis;
        held.addFirst(m); // first: it precedes any batch still held from an earlier replay
      } else {
        LOG.log(
            Level.WARNING,
            "vLLM pod "
                + pod()
                + ": batches "
                + (last + 1)
                + ".."
                + (m.seq() - 1)
                + " lost and no replay to ask; clearing the pod");
        clear();
        deliver(m);
      }
    }
  }

  private void finishReplay() {
    replaying = false;
    long firstHeld = held.peekFirst().seq();
    if (last < firstHeld - 1) {
      replayIncomplete.increment();
      LOG.log(
          Level.WARNING,
          "vLLM pod "
              + pod()
              + ": replay ended at "
              + last
              + ", before "
              + firstHeld
              + "; clearing the pod");
      clear();
      last = firstHeld - 1;
    } else {
      replayOk.increment();
    }
    drainHeld();
  }

  private void failReplay(String why) {
    replayFailed.increment();
    LOG.log(Level.WARNING, "vLLM pod " + pod() + ": replay failed (" + why + "); clearing the pod");
    replaying = false;
    replay.reset();
    clear();
    last = held.peekFirst().seq() - 1;
    drainHeld();
  }

  private void drainHeld() {
    while (!replaying && !held.isEmpty()) {
      accept(held.pollFirst());
    }
  }

  private void deliver(Held m) {
    lastTopic = m.topic();
    last = m.seq();
    decoder.decode(m.topic(), m.payload(), this::send);
  }

  private void clear() {
    clears.increment();
    send(decoder.cleared(clock.millis()));
  }

  private void send(BlockEvent e) {
    try {
      sink.accept(e);
    } catch (RuntimeException ex) {
      sinkErrors.increment();
      LOG.log(Level.ERROR, "the block-event sink threw on an event of pod " + pod(), ex);
    }
  }
}
