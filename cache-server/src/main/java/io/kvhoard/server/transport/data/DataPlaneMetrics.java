package io.kvhoard.server.transport.data;

import io.kvhoard.protocol.frame.FrameStatus;
import io.kvhoard.protocol.frame.Opcode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The data plane's meters: requests, blocks by outcome, bytes in and out and latency per operation;
 * connections; in-flight bytes; frames rejected by reason. Thread-safe.
 */
public final class DataPlaneMetrics {
  private final MeterRegistry registry;
  private final Map<Opcode, Timer> latency = new EnumMap<>(Opcode.class);
  private final Map<Opcode, Counter> bytesIn = new EnumMap<>(Opcode.class);
  private final Map<Opcode, Counter> bytesOut = new EnumMap<>(Opcode.class);
  private final Map<FrameStatus, Counter> rejected = new EnumMap<>(FrameStatus.class);
  private final AtomicInteger connections = new AtomicInteger();
  private final java.util.concurrent.ConcurrentHashMap<String, Counter> blockCounters =
      new java.util.concurrent.ConcurrentHashMap<>();
  final Counter slowClients;
  final Counter idleClosed;
  final Counter checksumRejected;

  public DataPlaneMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Opcode op : Opcode.values()) {
      if (op == Opcode.NONE) {
        continue;
      }
      String name = op.name().toLowerCase(java.util.Locale.ROOT);
      latency.put(
          op,
          Timer.builder("kvhoard.data.request")
              .description("Data-plane request latency, receipt of the frame to the response")
              .tag("op", name)
              .publishPercentileHistogram()
              .register(registry));
      bytesIn.put(
          op,
          Counter.builder("kvhoard.data.bytes.in")
              .baseUnit("bytes")
              .tag("op", name)
              .register(registry));
      bytesOut.put(
          op,
          Counter.builder("kvhoard.data.bytes.out")
              .baseUnit("bytes")
              .tag("op", name)
              .register(registry));
    }
    for (FrameStatus s : FrameStatus.values()) {
      if (s != FrameStatus.OK) {
        rejected.put(
            s,
            Counter.builder("kvhoard.data.frames.rejected")
                .description("Frames answered with an error, by reason")
                .tag("reason", s.name().toLowerCase(java.util.Locale.ROOT))
                .register(registry));
      }
    }
    registry.gauge("kvhoard.data.connections", connections);
    slowClients =
        Counter.builder("kvhoard.data.connections.closed").tag("reason", "slow").register(registry);
    idleClosed =
        Counter.builder("kvhoard.data.connections.closed").tag("reason", "idle").register(registry);
    checksumRejected =
        Counter.builder("kvhoard.data.put.checksum.mismatch")
            .description("PUT blocks whose payload did not match their CRC32C")
            .register(registry);
  }

  void request(Opcode op, long nanos, long in, long out) {
    Timer t = latency.get(op);
    if (t != null) {
      t.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      bytesIn.get(op).increment(in);
      bytesOut.get(op).increment(out);
    }
  }

  void blocks(Opcode op, String outcome, int n) {
    if (n > 0) {
      registry
          .counter(
              "kvhoard.data.blocks",
              "op",
              op.name().toLowerCase(java.util.Locale.ROOT),
              "outcome",
              outcome)
          .increment(n);
    }
  }

  void rejected(FrameStatus status) {
    Counter c = rejected.get(status);
    if (c != null) {
      c.increment();
    }
  }

  void connectionOpened() {
    connections.incrementAndGet();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  /** Open connections now. */
  public int connections() {
    return connections.get();
  }

  MeterRegistry registry() {
    return registry;
  }
}
