package io.kvhoard.perf.load;

import io.kvhoard.perf.ChronicleFlags;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * kvhoard's data plane as a target ({@link KvHoardConnection}): either a server the benchmark
 * starts itself ({@code kvhoard serve} in a child JVM on a free loopback port, RAM tier only, host
 * memory pre-touched, like the peers' fresh processes), or one already running at a given address,
 * whose process, for the CPU figure, is found from the listening port.
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
      return ServerProcess.start(name(), this::command, workDir);
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
