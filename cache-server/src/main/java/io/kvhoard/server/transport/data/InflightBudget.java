package io.kvhoard.server.transport.data;

import io.netty.channel.Channel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The request bytes all connections together have in flight (received, not yet answered), against a
 * global limit. A connection that finds the budget exhausted stops reading (auto-read off) and
 * waits here; the release that brings the total back under the limit wakes every waiting connection
 * on its own event loop. Back-pressure instead of a queue: TCP's window then slows the client.
 * Thread-safe.
 */
final class InflightBudget {
  private final long limit;
  private final AtomicLong used = new AtomicLong();
  private final Queue<Channel> waiting = new ConcurrentLinkedQueue<>();
  private final Consumer<Channel> resume;

  InflightBudget(long limit, Consumer<Channel> resume) {
    this.limit = limit;
    this.resume = resume;
  }

  /** Takes {@code bytes}; returns whether the total is still within the limit. */
  boolean acquire(long bytes) {
    return used.addAndGet(bytes) <= limit;
  }

  void release(long bytes) {
    if (used.addAndGet(-bytes) <= limit) {
      Channel ch;
      while ((ch = waiting.poll()) != null) {
        Channel c = ch;
        c.eventLoop().execute(() -> resume.accept(c));
      }
    }
  }

  /** Parks a connection until the total falls within the limit. */
  void await(Channel ch) {
    waiting.add(ch);
    if (used.get() <= limit && waiting.remove(ch)) {
      ch.eventLoop().execute(() -> resume.accept(ch)); // released meanwhile
    }
  }

  boolean withinLimit() {
    return used.get() <= limit;
  }

  long used() {
    return used.get();
  }

  long limit() {
    return limit;
  }
}
