package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * memcached, the stronger peer: Debian's {@code memcached} started on a free loopback port with
 * {@code -I 64m} (items up to 64 MiB), four worker threads, UDP off, and enough memory for the
 * working set. Spoken to in its text protocol ({@link MemcachedConnection}).
 *
 * <p>Immutable and thread-safe.
 */
final class Memcached implements Target {
  /** The binary looked for on the PATH. */
  static final String BINARY = "memcached";

  /** memcached's largest item with {@code -I 64m}, less room for the item header and key. */
  static final int MAX_BLOCK_BYTES = (64 << 20) - 4096;

  private final Path binary;
  private final Path workDir;
  private final long memoryBytes;
  private final String user;

  /**
   * @param memoryBytes memcached's {@code -m}: room for the working set and its slab overhead
   * @param user memcached's {@code -u}: the user it runs as when started by root (it refuses to run
   *     as root without one; as another user the option is ignored)
   */
  Memcached(Path binary, Path workDir, long memoryBytes, String user) {
    this.binary = binary;
    this.workDir = workDir;
    this.memoryBytes = memoryBytes;
    this.user = user;
  }

  @Override
  public String name() {
    return "memcached";
  }

  @Override
  public String describe() {
    return ServerProcess.firstLineOf(List.of(binary.toString(), "-V"))
        + " (-I 64m -m "
        + memoryMb()
        + " -t 4 -U 0)";
  }

  private long memoryMb() {
    return Math.max(128, memoryBytes >> 20);
  }

  /** The command line for {@code port}. */
  List<String> command(int port) {
    return List.of(
        binary.toString(),
        "-l",
        "127.0.0.1",
        "-p",
        Integer.toString(port),
        "-I",
        "64m",
        "-m",
        Long.toString(memoryMb()),
        "-t",
        "4",
        "-U",
        "0",
        "-u",
        user);
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    if (maxBlockBytes > MAX_BLOCK_BYTES) {
      throw new IOException(
          "memcached stores items up to 64 MiB (-I 64m); " + maxBlockBytes + " bytes is too much");
    }
    return ServerProcess.start(name(), this::command, workDir);
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return new MemcachedConnection(Wire.connect(address));
  }
}
