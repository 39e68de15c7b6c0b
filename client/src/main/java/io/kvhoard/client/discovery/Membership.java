package io.kvhoard.client.discovery;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The servers a client places blocks on: the {@link ServerSource}'s last good list, re-resolved
 * every refresh interval, less the servers that failed recently.
 *
 * <p>Design. A server that fails (a connection refused, reset or timed out) is backed off: left out
 * of {@link #live()} for an interval that doubles with each consecutive failure, from the initial
 * backoff up to the maximum (the exponential backoff of gRPC's connection backoff spec, without its
 * jitter: placement is deterministic, and every client backs off the same dead server anyway). When
 * the interval ends the server is live again on probation; one success resets it, another failure
 * doubles the interval. Leaving a failed server out moves its keys to the others (as if it had been
 * removed, see {@code Rendezvous}), so a dead server costs one deadline per backoff interval, not
 * one per call. A failed resolution keeps the last good list.
 *
 * <p>Thread-safe. Time comes from the {@code ticker} (nanoseconds, monotonic), so tests use a fake.
 */
public final class Membership implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Membership.class.getName());

  private final ServerSource source;
  private final LongSupplier ticker;
  private final long initialBackoffNanos;
  private final long maxBackoffNanos;
  private final Map<ServerAddress, Failure> failures = new ConcurrentHashMap<>();
  private final ScheduledFuture<?> refreshTask;
  private volatile List<ServerAddress> known = List.of();

  /** A failed server's state: consecutive failures and when it is tried again. */
  private record Failure(int count, long retryAtNanos) {}

  /**
   * Resolves {@code source} once now and, if {@code scheduler} is not null, every {@code refresh}
   * on it.
   *
   * @throws IOException if the first resolution fails (a client must know some server to start)
   */
  public Membership(
      ServerSource source,
      Duration refresh,
      Duration initialBackoff,
      Duration maxBackoff,
      LongSupplier ticker,
      ScheduledExecutorService scheduler)
      throws IOException {
    this.source = Objects.requireNonNull(source, "source");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    requirePositive("refresh", refresh);
    requirePositive("initialBackoff", initialBackoff);
    requirePositive("maxBackoff", maxBackoff);
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff ("
              + maxBackoff
              + ") must be at least initialBackoff ("
              + initialBackoff
              + ")");
    }
    this.initialBackoffNanos = initialBackoff.toNanos();
    this.maxBackoffNanos = maxBackoff.toNanos();
    refresh();
    if (known.isEmpty()) {
      throw new IOException(source + " lists no server");
    }
    this.refreshTask =
        scheduler == null
            ? null
            : scheduler.scheduleWithFixedDelay(
                this::refreshQuietly, refresh.toNanos(), refresh.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Asks the source again; keeps the last good list if it fails or lists no server.
   *
   * @throws IOException if the source failed
   */
  public void refresh() throws IOException {
    List<ServerAddress> now = List.copyOf(source.resolve());
    if (now.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, source + " lists no server; keeping " + known);
      return;
    }
    known = now;
    failures.keySet().retainAll(now);
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "re-resolving " + source + " failed: " + e);
    }
  }

  /** Every server the source listed last. */
  public List<ServerAddress> known() {
    return known;
  }

  /** The known servers that are not backed off now, in the source's order. */
  public List<ServerAddress> live() {
    List<ServerAddress> all = known;
    if (failures.isEmpty()) {
      return all;
    }
    long now = ticker.getAsLong();
    List<ServerAddress> out = new ArrayList<>(all.size());
    for (ServerAddress s : all) {
      Failure f = failures.get(s);
      if (f == null || now - f.retryAtNanos() >= 0) {
        out.add(s);
      }
    }
    return out;
  }

  /** Records a failure of {@code server}: it is left out for the next backoff interval. */
  public void failed(ServerAddress server) {
    long now = ticker.getAsLong();
    failures.compute(
        server,
        (s, f) -> {
          int count = f == null ? 1 : f.count() + 1;
          return new Failure(count, now + backoffNanos(count));
        });
  }

  /** Records a success of {@code server}: its backoff is reset. */
  public void succeeded(ServerAddress server) {
    if (!failures.isEmpty()) {
      failures.remove(server);
    }
  }

  /** The backoff after {@code failures} consecutive failures. */
  long backoffNanos(int failures) {
    long b = initialBackoffNanos;
    for (int i = 1; i < failures && b < maxBackoffNanos; i++) {
      b *= 2;
    }
    return Math.min(b, maxBackoffNanos);
  }

  /** Stops re-resolving. */
  @Override
  public void close() {
    if (refreshTask != null) {
      refreshTask.cancel(false);
    }
  }

  private static void requirePositive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }
}
