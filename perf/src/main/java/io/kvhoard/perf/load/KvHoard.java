package io.kvhoard.perf.load;

import io.kvhoard.perf.ChronicleFlags;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * kvhoard's data plane as a target ({@link KvHoardConnection}): either a server the benchmark
 * starts itself, or one already running at a given address, whose process, for the CPU figure, is
 * found from the listening port.
 *
 * <p>A started server ({@code kvhoard serve} in a child JVM on a free loopback port, RAM tier only,
 * host memory pre-touched) is started once, at its first measurement, and serves all of them: a JVM
 * server compiles its hot code during its first seconds of load, and the peers are C programs
 * measured as long-running servers, so it is first warmed up until its JIT compilers are idle
 * ({@link #warmUp}). Every measurement uses keys of its own, so what one stored cannot answer
 * another; what one stored stays until the server evicts it, as in any long-running cache. {@link
 * #close()} stops it.
 *
 * <p>Thread-safe.
 */
final class KvHoard implements Target, AutoCloseable {
  private final InetSocketAddress address; // null: start one
  private final NamespaceId namespace;
  private final ByteBufAllocator alloc;
  private final boolean checkCrc;
  private final ProcFs proc;
  private final Path java;
  private final String classPath;
  private final Path workDir;
  private final long hostCapacity;
  private final Duration maxWarmUp;
  private final PrintWriter log;
  private ServerProcess started; // guarded by this
  private Thread stopOnExit; // guarded by this

  /**
   * Attaches to the server at {@code address}.
   *
   * @param checkCrc whether GETs check every block's CRC32C
   */
  KvHoard(
      InetSocketAddress address,
      NamespaceId namespace,
      ByteBufAllocator alloc,
      ProcFs proc,
      boolean checkCrc) {
    this.address = address;
    this.checkCrc = checkCrc;
    this.namespace = namespace;
    this.alloc = alloc;
    this.proc = proc;
    this.java = null;
    this.classPath = null;
    this.workDir = null;
    this.hostCapacity = 0;
    this.maxWarmUp = Duration.ZERO;
    this.log = null;
  }

  /**
   * Starts a server for each measurement.
   *
   * @param classPath a class path holding the cache server (the perf jar does)
   * @param hostCapacity bytes of its RAM tier
   * @param maxWarmUp the longest JIT warm-up (zero: none)
   * @param log where the warm-up's outcome is reported
   * @param checkCrc whether GETs check every block's CRC32C
   */
  KvHoard(
      Path java,
      String classPath,
      Path workDir,
      long hostCapacity,
      Duration maxWarmUp,
      NamespaceId namespace,
      ByteBufAllocator alloc,
      ProcFs proc,
      PrintWriter log,
      boolean checkCrc) {
    this.address = null;
    this.checkCrc = checkCrc;
    this.namespace = namespace;
    this.alloc = alloc;
    this.proc = proc;
    this.maxWarmUp = maxWarmUp;
    this.log = log;
    this.java = java;
    this.classPath = classPath;
    this.workDir = workDir;
    this.hostCapacity = hostCapacity;
  }

  /** The command line of a started server on {@code port}. */
  List<String> command(int port) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.add("-Xmx512m");
    cmd.addAll(ChronicleFlags.JVM_ARGS);
    cmd.addAll(
        List.of(
            "-cp",
            classPath,
            "io.kvhoard.server.cli.KvHoardCommand",
            "serve",
            "--data-dir",
            workDir.resolve("kvhoard-" + port).toString(),
            "--data-port",
            Integer.toString(port),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--host-capacity",
            Long.toString(hostCapacity),
            "--disk-capacity",
            "0",
            "--host-pretouch",
            "true"));
    return cmd;
  }

  @Override
  public String name() {
    return "kvhoard";
  }

  @Override
  public String describe() {
    return address == null
        ? "kvhoard serve, started once for all its measurements (RAM tier "
            + Units.formatBytes(hostCapacity)
            + ", pre-touched; JIT warmed up until its compilers are idle, at most "
            + maxWarmUp.toMillis()
            + " ms; "
            + java
            + ")"
        : "kvhoard data plane at " + address.getHostString() + ":" + address.getPort();
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    if (address == null) {
      ServerProcess server = startedServer();
      return new Attached(server.address(), server.pid());
    }
    try {
      SocketChannel.open(address).close();
    } catch (IOException e) {
      throw new IOException(
          "no kvhoard data plane answers at "
              + address
              + " ("
              + e.getMessage()
              + "); start the server first or fix --kvhoard",
          e);
    }
    OptionalLong pid =
        address.getAddress().isLoopbackAddress()
            ? proc.pidListeningOn(address.getPort())
            : OptionalLong.empty();
    return new Attached(address, pid);
  }

  /** Starts the server at the first call, warms it up; the same server afterwards. */
  private synchronized ServerProcess startedServer() throws IOException {
    if (started != null) {
      return started;
    }
    ServerProcess server = ServerProcess.start(name(), this::command, workDir);
    Thread hook = new Thread(server::close, "blocks-stop-kvhoard");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      WarmUp w = warmUp(server.address(), server.pid().getAsLong());
      log.printf(
          Locale.ROOT,
          "# kvhoard: JIT warm-up %.1f s, %s (compiler CPU %.2f s)%n",
          w.nanos() / 1e9,
          w.idle() ? "ended when the compilers were idle" : "cut off at the limit",
          w.compilerSeconds());
      log.flush();
    } catch (IOException | RuntimeException e) {
      server.close();
      Runtime.getRuntime().removeShutdownHook(hook);
      throw e;
    }
    started = server;
    stopOnExit = hook;
    return server;
  }

  /** Stops the started server, if any. */
  @Override
  public synchronized void close() {
    if (started == null) {
      return;
    }
    started.close();
    started = null;
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }

  /** Ids of the warm-up blocks: far above any id the measurements use. */
  static final long WARM_UP_FIRST_ID = 1L << 60;

  static final int WARM_UP_CONNECTIONS = 4;
  static final int WARM_UP_BLOCKS = 16; // per connection
  static final int WARM_UP_BLOCK_BYTES = 1 << 20;
  static final long WARM_UP_WINDOW_NANOS = 1_000_000_000L;
  static final long WARM_UP_MIN_NANOS = 3_000_000_000L;

  /**
   * Compiler CPU below this fraction of a core over a window counts as idle (two windows in a row
   * end the warm-up).
   */
  static final double COMPILERS_IDLE = 0.02;

  /** How a warm-up went. */
  record WarmUp(long nanos, boolean idle, double compilerSeconds) {}

  /**
   * Runs the server's request paths until its JIT compilers are idle: four connections (one per
   * event loop here) each read 16 blocks of 1 MiB in turn and store a fresh block every fourth
   * request, while the compiler threads' CPU time ({@link ProcFs#compilerCpuSeconds}) is sampled
   * every second; two seconds in a row below 2% of a core, after at least three seconds, end it, as
   * does {@code maxWarmUp}. Fresh blocks beyond the RAM tier are evicted like any others.
   */
  WarmUp warmUp(InetSocketAddress at, long pid) throws IOException {
    long start = System.nanoTime();
    if (maxWarmUp.isZero()) {
      return new WarmUp(0, false, 0);
    }
    long deadline = start + maxWarmUp.toNanos();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<IOException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < WARM_UP_CONNECTIONS; t++) {
      long base = WARM_UP_FIRST_ID + ((long) t << 32);
      Thread thread =
          new Thread(
              () -> {
                try {
                  load(at, base, stop);
                } catch (IOException e) {
                  failure.compareAndSet(null, e);
                  stop.set(true);
                }
              },
              "blocks-warm-up-" + t);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    double first = proc.compilerCpuSeconds(pid).orElse(0);
    double last = first;
    int idleWindows = 0;
    boolean idle = false;
    try {
      while (!stop.get() && System.nanoTime() < deadline) {
        long window = Math.min(WARM_UP_WINDOW_NANOS, deadline - System.nanoTime());
        Thread.sleep(Math.max(1, window / 1_000_000));
        // A window counts as idle only when it was whole and the compilers' CPU could be read:
        // an unreadable /proc runs the warm-up to its limit rather than calling it idle.
        OptionalDouble now = proc.compilerCpuSeconds(pid);
        boolean quiet =
            window == WARM_UP_WINDOW_NANOS
                && now.isPresent()
                && now.getAsDouble() - last < COMPILERS_IDLE * WARM_UP_WINDOW_NANOS / 1e9;
        last = now.orElse(last);
        idleWindows = quiet ? idleWindows + 1 : 0;
        if (idleWindows >= 2 && System.nanoTime() - start >= WARM_UP_MIN_NANOS) {
          idle = true;
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      stop.set(true);
      for (Thread thread : threads) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    return new WarmUp(System.nanoTime() - start, idle, last - first);
  }

  private void load(InetSocketAddress at, long base, AtomicBoolean stop) throws IOException {
    ByteBuffer block = ByteBuffer.allocateDirect(WARM_UP_BLOCK_BYTES);
    ByteBuffer dst = ByteBuffer.allocateDirect(WARM_UP_BLOCK_BYTES);
    try (Connection c = connect(at)) {
      for (int i = 0; i < WARM_UP_BLOCKS; i++) {
        c.put(base + i, block);
      }
      long fresh = base + WARM_UP_BLOCKS;
      for (int i = 0; !stop.get(); i++) {
        if (i % 4 == 3) {
          c.put(fresh++, block);
          continue;
        }
        dst.clear();
        if (c.get(base + i % WARM_UP_BLOCKS, dst) < 0) {
          throw new IOException("kvhoard lost a warm-up block: the server is not storing blocks");
        }
      }
    }
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return KvHoardConnection.open(address, namespace, alloc, checkCrc);
  }

  /** A server the benchmark did not start: closing it leaves it running. */
  private record Attached(InetSocketAddress address, OptionalLong pid) implements Server {
    @Override
    public void close() {}
  }
}
