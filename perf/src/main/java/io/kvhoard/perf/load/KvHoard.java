package io.kvhoard.perf.load;

import io.kvhoard.perf.ChronicleFlags;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * kvhoard's data plane as a target ({@link KvHoardConnection}): either a server the benchmark
 * starts itself ({@code kvhoard serve} in a child JVM on a free loopback port, RAM tier only, host
 * memory pre-touched, its JIT warmed up for 1.5 s before the measurement's own warm-up), or one
 * already running at a given address, whose process, for the CPU figure, is found from the
 * listening port.
 *
 * <p>Immutable and thread-safe.
 */
final class KvHoard implements Target {
  private final InetSocketAddress address; // null: start one
  private final NamespaceId namespace;
  private final ByteBufAllocator alloc;
  private final ProcFs proc;
  private final Path java;
  private final String classPath;
  private final Path workDir;
  private final long hostCapacity;

  /** Attaches to the server at {@code address}. */
  KvHoard(InetSocketAddress address, NamespaceId namespace, ByteBufAllocator alloc, ProcFs proc) {
    this.address = address;
    this.namespace = namespace;
    this.alloc = alloc;
    this.proc = proc;
    this.java = null;
    this.classPath = null;
    this.workDir = null;
    this.hostCapacity = 0;
  }

  /**
   * Starts a server for each measurement.
   *
   * @param classPath a class path holding the cache server (the perf jar does)
   * @param hostCapacity bytes of its RAM tier
   */
  KvHoard(
      Path java,
      String classPath,
      Path workDir,
      long hostCapacity,
      NamespaceId namespace,
      ByteBufAllocator alloc) {
    this.address = null;
    this.namespace = namespace;
    this.alloc = alloc;
    this.proc = null;
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
        ? "kvhoard serve, started per measurement (RAM tier "
            + Units.formatBytes(hostCapacity)
            + ", pre-touched; "
            + java
            + ")"
        : "kvhoard data plane at " + address.getHostString() + ":" + address.getPort();
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    if (address == null) {
      ServerProcess server = ServerProcess.start(name(), this::command, workDir);
      try {
        warmUp(server.address());
      } catch (IOException | RuntimeException e) {
        server.close();
        throw e;
      }
      return server;
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

  /** Ids of the warm-up blocks: far above any id the measurements use. */
  static final long WARM_UP_FIRST_ID = 1L << 60;

  static final int WARM_UP_BLOCKS = 64;
  static final int WARM_UP_BLOCK_BYTES = 256 * 1024;
  static final long WARM_UP_NANOS = 1_500_000_000L;

  /**
   * Runs the server's request paths for 1.5 s before it is measured: a JVM server compiles its hot
   * code in its first seconds, and the peers are measured as long-running servers, not as processes
   * that have just started. 64 blocks of 256 KiB (16 MiB), stored then read in turn on two
   * connections; they stay in the server, far below its capacity.
   */
  void warmUp(InetSocketAddress at) throws IOException {
    ByteBuffer block = ByteBuffer.allocateDirect(WARM_UP_BLOCK_BYTES);
    ByteBuffer dst = ByteBuffer.allocateDirect(WARM_UP_BLOCK_BYTES);
    try (Connection a = connect(at);
        Connection b = connect(at)) {
      for (int i = 0; i < WARM_UP_BLOCKS; i++) {
        (i % 2 == 0 ? a : b).put(WARM_UP_FIRST_ID + i, block);
      }
      long end = System.nanoTime() + WARM_UP_NANOS;
      for (int i = 0; System.nanoTime() < end; i++) {
        Connection c = i % 2 == 0 ? a : b;
        dst.clear();
        if (c.get(WARM_UP_FIRST_ID + i % WARM_UP_BLOCKS, dst) < 0) {
          throw new IOException("kvhoard lost a warm-up block: the server is not storing blocks");
        }
      }
    }
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return KvHoardConnection.open(address, namespace, alloc);
  }

  /** A server the benchmark did not start: closing it leaves it running. */
  private record Attached(InetSocketAddress address, OptionalLong pid) implements Server {
    @Override
    public void close() {}
  }
}
