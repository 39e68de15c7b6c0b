package io.kvhoard.client;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The client's meters, all under {@code kvhoard.client}:
 *
 * <ul>
 *   <li>{@code kvhoard.client.blocks{op, outcome}}: blocks by outcome (retrieve: hit, miss,
 *       corrupt, timeout, failed; store: written, cached, failed; lookup: held, missing, failed);
 *   <li>{@code kvhoard.client.bytes{op}}: payload bytes moved;
 *   <li>{@code kvhoard.client.server.failures{kind}}: timeout, io, protocol, corrupt;
 *   <li>{@code kvhoard.client.calls{op, stop}}: call latency by {@link StopReason}.
 * </ul>
 *
 * <p>Thread-safe (Micrometer's meters are).
 */
final class ClientMetrics {
  private final MeterRegistry registry;

  ClientMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  MeterRegistry registry() {
    return registry;
  }

  void blocks(String op, String outcome, int n) {
    if (n > 0) {
      registry.counter("kvhoard.client.blocks", "op", op, "outcome", outcome).increment(n);
    }
  }

  void bytes(String op, long n) {
    if (n > 0) {
      registry.counter("kvhoard.client.bytes", "op", op).increment(n);
    }
  }

  void failure(String kind) {
    registry.counter("kvhoard.client.server.failures", "kind", kind).increment();
  }

  void call(String op, StopReason stop, long nanos) {
    Timer.builder("kvhoard.client.calls")
        .tag("op", op)
        .tag("stop", stop.name().toLowerCase(java.util.Locale.ROOT))
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }
}
