package io.kvhoard.perf.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * The load harness: one measurement of one operation at one block size over N connections to one
 * server, the same for every system.
 *
 * <p>Each connection runs on its own thread with one request in flight (the same depth for every
 * system), in three phases that all connections enter together: set-up (connect; for GET, store the
 * connection's share of the working set), warm-up (the operation, not recorded), measurement (the
 * operation, each one's latency recorded in an HdrHistogram). Throughput is the bytes of the
 * measured operations over the time from the start of the measurement until the last connection
 * finished its last operation. The server's CPU time (user + system, all its threads, from {@code
 * /proc}) is read at the start and end of the measurement.
 *
 * <p>PUT stores every block under a fresh key (KV blocks are immutable; a cache must evict, not
 * overwrite); GET cycles in order over a working set stored before the warm-up, larger than the CPU
 * caches, and checks every block it gets ({@link BlockContent}): a wrong or missing block fails the
 * measurement.
 *
 * <p>Buffers: one direct source and one direct destination buffer per connection, allocated once
 * for the block size and reused by every measurement. Not thread-safe: one measurement at a time.
 */
final class LoadRun {
  /** Longest latency recorded exactly; longer ones are recorded as this. */
  static final long MAX_LATENCY_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** A connection that completes nothing for this long is declared stuck and the run fails. */
  static final Duration STALL_TIMEOUT = Duration.ofSeconds(30);

  /**
   * What to measure.
   *
   * @param op the operation every connection repeats
   * @param connections connections (and threads), at least 1
   * @param warmup how long to run before measuring (may be zero)
   * @param duration how long to measure, when {@code bytes} is 0
   * @param bytes if positive, measure until the connections together moved this many bytes (each
   *     connection its share, in whole blocks) instead of for {@code duration}
   * @param workingSetBytes GET only: bytes stored before the warm-up and read in turn (at least one
   *     block per connection)
   * @param keyBase ids of this measurement's keys start here; give each measurement on a server its
   *     own range (ids are {@code keyBase + connection << 32 + n})
   */
  record Plan(
      Op op,
      int connections,
      Duration warmup,
      Duration duration,
      long bytes,
      long workingSetBytes,
      long keyBase) {
    /** Validates the plan. */
    Plan {
      if (connections < 1) {
        throw new IllegalArgumentException("connections must be at least 1, got " + connections);
      }
      if (warmup.isNegative() || duration.isNegative() || bytes < 0 || workingSetBytes < 0) {
        throw new IllegalArgumentException("warm-up, duration and byte counts must be >= 0");
      }
      if (bytes == 0 && duration.isZero()) {
        throw new IllegalArgumentException("give a duration or a byte count to measure");
      }
    }
  }

  /**
   * One measurement.
   *
   * @param ops operations completed in the measurement
   * @param bytes block bytes they moved
   * @param nanos the measurement's length
   * @param latency each operation's latency in nanoseconds
   * @param serverCpuSeconds user + system CPU seconds of the server during the measurement, if
   *     known
   */
  record Result(
      long ops, long bytes, long nanos, Histogram latency, OptionalDouble serverCpuSeconds) {
    /** Throughput in GB/s (10^9 bytes per second). */
    double gbPerSecond() {
      return nanos == 0 ? 0 : (double) bytes / nanos;
    }

    /** Latency at {@code percentile} (0..100) in milliseconds. */
    double latencyMs(double percentile) {
      return latency.getValueAtPercentile(percentile) / 1e6;
    }

    /** Server CPU seconds per GB moved, if the server's CPU time is known. */
    OptionalDouble serverCpuSecondsPerGb() {
      if (serverCpuSeconds.isEmpty() || bytes == 0) {
        return OptionalDouble.empty();
      }
      return OptionalDouble.of(serverCpuSeconds.getAsDouble() / (bytes / 1e9));
    }
  }

  private final int blockBytes;
  private final ThreadFactory threads;
  private final LongSupplier nanoClock;
  private final ProcFs proc;
  private final ByteBuffer[] sources;
  private final ByteBuffer[] destinations;

  /**
   * Allocates the buffers for up to {@code maxConnections} connections of {@code blockBytes}
   * blocks.
   *
   * @param threads makes one thread per connection for each measurement
   * @param nanoClock monotonic nanoseconds ({@code System::nanoTime})
   * @param proc where the server's CPU time is read
   */
  LoadRun(
      int blockBytes,
      int maxConnections,
      ThreadFactory threads,
      LongSupplier nanoClock,
      ProcFs proc) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be >= 1, got " + maxConnections);
    }
    this.blockBytes = blockBytes;
    this.threads = threads;
    this.nanoClock = nanoClock;
    this.proc = proc;
    this.sources = new ByteBuffer[maxConnections];
    this.destinations = new ByteBuffer[maxConnections];
    for (int i = 0; i < maxConnections; i++) {
      sources[i] = BlockContent.newBlock(blockBytes, i);
      destinations[i] = BlockContent.newBuffer(blockBytes, 0);
    }
  }

  /** The block size this run measures. */
  int blockBytes() {
    return blockBytes;
  }

  /**
   * Runs {@code plan} against {@code server}, connecting with {@code target}.
   *
   * @throws WrongBlockException if a GET returned wrong or no bytes
   * @throws IOException if a connection failed, the server refused an operation or stopped
   *     answering; the message says which connection and what
   */
  Result measure(Target target, Server server, Plan plan) throws IOException {
    if (plan.connections() > sources.length) {
      throw new IllegalArgumentException(
          plan.connections() + " connections, but buffers for " + sources.length);
    }
    Shared shared = new Shared(plan, target, server);
    List<Thread> started = new ArrayList<>();
    for (int i = 0; i < plan.connections(); i++) {
      Thread t = threads.newThread(new Worker(i, shared, sources[i], destinations[i]));
      t.start();
      started.add(t);
    }
    try {
      for (Thread t : started) {
        while (t.isAlive()) {
          t.join(TimeUnit.SECONDS.toMillis(1));
          if (nanoClock.getAsLong() - shared.lastProgress > STALL_TIMEOUT.toNanos()) {
            shared.fail(
                new IOException(
                    target.name()
                        + " completed no operation for "
                        + STALL_TIMEOUT.toSeconds()
                        + " s; closing its connections"));
          }
        }
      }
    } catch (InterruptedException e) {
      shared.fail(new IOException("interrupted", e));
      Thread.currentThread().interrupt();
    }
    Throwable failure = shared.failure.get();
    if (failure != null) {
      if (failure instanceof IOException io) {
        throw io;
      }
      throw new IOException(target.name() + ": " + failure, failure);
    }
    Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
    long ops = 0;
    for (Worker.Totals t : shared.totals) {
      latency.add(t.latency());
      ops += t.ops();
    }
    OptionalDouble cpu =
        Double.isNaN(shared.cpuAfter) || Double.isNaN(shared.cpuBefore)
            ? OptionalDouble.empty()
            : OptionalDouble.of(shared.cpuAfter - shared.cpuBefore);
    return new Result(ops, ops * blockBytes, shared.measureEnd - shared.measureStart, latency, cpu);
  }

  private double serverCpu(Server server) {
    OptionalLong pid = server.pid();
    if (pid.isEmpty()) {
      return Double.NaN;
    }
    return proc.cpuSeconds(pid.getAsLong()).orElse(Double.NaN);
  }

  /**
   * State the connections of one measurement share; phase boundaries are set by the last to arrive.
   */
  private final class Shared {
    final Plan plan;
    final Target target;
    final Server server;
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final List<Worker.Totals> totals = new ArrayList<>();
    final Connection[] connections;
    final Phaser phaser;
    volatile long lastProgress;
    // Written by the phaser's advance (the last thread to arrive), read after the next advance.
    long warmupEnd;
    long measureStart;
    long measureEnd;
    double cpuBefore = Double.NaN;
    double cpuAfter = Double.NaN;

    Shared(Plan plan, Target target, Server server) {
      this.plan = plan;
      this.target = target;
      this.server = server;
      this.connections = new Connection[plan.connections()];
      this.lastProgress = nanoClock.getAsLong();
      this.phaser =
          new Phaser(plan.connections()) {
            @Override
            protected boolean onAdvance(int phase, int parties) {
              long now = nanoClock.getAsLong();
              switch (phase) {
                case 0 -> warmupEnd = now + plan.warmup().toNanos();
                case 1 -> {
                  cpuBefore = serverCpu(server);
                  measureStart = nanoClock.getAsLong();
                }
                default -> {
                  measureEnd = now;
                  cpuAfter = serverCpu(server);
                }
              }
              return false;
            }
          };
    }

    void progress() {
      lastProgress = nanoClock.getAsLong();
    }

    /** Records the first failure, lets every connection go and unblocks the ones in I/O. */
    void fail(Throwable t) {
      failure.compareAndSet(null, t);
      phaser.forceTermination();
      synchronized (connections) {
        for (Connection c : connections) {
          closeQuietly(c);
        }
      }
    }

    synchronized void addTotals(Worker.Totals t) {
      totals.add(t);
    }
  }

  /** One connection's thread. */
  private final class Worker implements Runnable {
    record Totals(long ops, Histogram latency) {}

    private final int index;
    private final Shared shared;
    private final ByteBuffer source;
    private final ByteBuffer destination;
    private final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
    private long[] workingSet;
    private long nextPut;
    private long nextGet;

    Worker(int index, Shared shared, ByteBuffer source, ByteBuffer destination) {
      this.index = index;
      this.shared = shared;
      this.source = source;
      this.destination = destination;
    }

    @Override
    public void run() {
      Connection connection = null;
      try {
        connection = shared.target.connect(shared.server.address());
        synchronized (shared.connections) {
          shared.connections[index] = connection;
        }
        if (shared.failure.get() != null) {
          return;
        }
        Plan plan = shared.plan;
        long base = plan.keyBase() + ((long) index << 32);
        nextPut = base;
        if (plan.op() == Op.GET) {
          prefill(connection, base + (1L << 31));
        }
        if (shared.phaser.arriveAndAwaitAdvance() < 0) {
          return;
        }
        while (nanoClock.getAsLong() < shared.warmupEnd) {
          once(connection);
        }
        if (shared.phaser.arriveAndAwaitAdvance() < 0) {
          return;
        }
        long ops = 0;
        if (plan.bytes() > 0) {
          long perConnection = plan.bytes() / blockBytes / plan.connections();
          long mine =
              perConnection + (index < (plan.bytes() / blockBytes) % plan.connections() ? 1 : 0);
          for (; ops < mine; ops++) {
            latency.recordValue(Math.min(once(connection), MAX_LATENCY_NANOS));
          }
        } else {
          long end = shared.measureStart + plan.duration().toNanos();
          while (nanoClock.getAsLong() < end) {
            latency.recordValue(Math.min(once(connection), MAX_LATENCY_NANOS));
            ops++;
          }
        }
        if (shared.phaser.arriveAndAwaitAdvance() < 0) {
          return;
        }
        shared.addTotals(new Totals(ops, latency));
      } catch (Throwable t) {
        shared.fail(
            t instanceof IOException
                ? t
                : new IOException(shared.target.name() + ", connection " + index + ": " + t, t));
      } finally {
        closeQuietly(connection);
      }
    }

    /** Stores this connection's share of the working set. */
    private void prefill(Connection connection, long firstId) throws IOException {
      Plan plan = shared.plan;
      long blocks = Math.max(plan.connections(), ceilDiv(plan.workingSetBytes(), blockBytes));
      int mine = (int) ceilDiv(blocks, plan.connections());
      workingSet = new long[mine];
      for (int i = 0; i < mine; i++) {
        workingSet[i] = firstId + i;
        put(connection, workingSet[i]);
      }
    }

    /** One operation; returns its latency in nanoseconds. */
    private long once(Connection connection) throws IOException {
      long start = nanoClock.getAsLong();
      if (shared.plan.op() == Op.PUT) {
        put(connection, nextPut++);
      } else {
        long id = workingSet[(int) (nextGet++ % workingSet.length)];
        int n = connection.get(id, destination);
        if (n < 0) {
          throw new WrongBlockException(
              shared.target.name()
                  + " does not hold key "
                  + Long.toHexString(id)
                  + ", stored before the measurement (evicted? give it more memory)");
        }
        BlockContent.verify(shared.target.name(), id, blockBytes, destination);
      }
      long end = nanoClock.getAsLong();
      shared.progress();
      return end - start;
    }

    private void put(Connection connection, long id) throws IOException {
      BlockContent.stamp(source, id);
      connection.put(id, source);
      shared.progress();
    }
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static void closeQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      // closing to unblock or to clean up; the failure that matters is already recorded
    }
  }
}
