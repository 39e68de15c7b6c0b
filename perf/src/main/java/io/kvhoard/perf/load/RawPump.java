package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * The raw pump ({@link RawPumpServer}) as a target: started as a child JVM on a free loopback port,
 * with the benchmark's own class path, like the other servers, so that its CPU is its own.
 *
 * <p>Immutable and thread-safe.
 */
final class RawPump implements Target {
  private final Path java;
  private final String classPath;
  private final Path workDir;
  private final long capacity;

  /**
   * @param java the {@code java} launcher (this JVM's, normally)
   * @param classPath a class path holding {@link RawPumpServer}
   * @param capacity bytes of blocks the pump keeps, all connections together (see {@link
   *     RawPumpServer})
   */
  RawPump(Path java, String classPath, Path workDir, long capacity) {
    this.java = java;
    this.classPath = classPath;
    this.workDir = workDir;
    this.capacity = capacity;
  }

  @Override
  public String name() {
    return "raw";
  }

  @Override
  public String describe() {
    return "raw pump: a blocking Java socket server, a thread per connection ("
        + java
        + "; "
        + Units.formatBytes(capacity)
        + " kept)";
  }

  /** The command line for {@code port}. */
  List<String> command(int port) {
    return List.of(
        java.toString(),
        "-Xmx128m",
        "-XX:MaxDirectMemorySize=8g", // a limit, not a reservation: buffers are allocated as used
        "-XX:+UseSerialGC", // the pump allocates nothing in the steady state: no GC threads needed
        "-cp",
        classPath,
        RawPumpServer.class.getName(),
        "--port",
        Integer.toString(port),
        "--capacity",
        Long.toString(capacity));
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    if (maxBlockBytes > RawPumpServer.MAX_BLOCK_BYTES) {
      throw new IOException("the raw pump takes blocks up to 1 GiB, not " + maxBlockBytes);
    }
    return ServerProcess.start(name(), this::command, workDir);
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return new RawPumpConnection(Wire.connect(address));
  }
}
