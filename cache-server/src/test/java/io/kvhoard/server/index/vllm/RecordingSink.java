package io.kvhoard.server.index.vllm;

import static org.junit.jupiter.api.Assertions.fail;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.index.BlockEventSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Test helper: a sink that queues what it gets, for a test thread to take with a deadline. */
final class RecordingSink implements BlockEventSink {
  private final LinkedBlockingQueue<BlockEvent> events = new LinkedBlockingQueue<>();

  @Override
  public void accept(BlockEvent event) {
    events.add(event);
  }

  /** The next {@code n} events; fails the test if they do not come within {@code seconds}. */
  List<BlockEvent> take(int n, long seconds) throws InterruptedException {
    List<BlockEvent> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (out.size() < n) {
      BlockEvent e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (e == null) {
        fail("got " + out.size() + " of " + n + " events within " + seconds + " s: " + out);
      }
      out.add(e);
    }
    return out;
  }

  /** Events received and not yet taken. */
  int pending() {
    return events.size();
  }
}
