package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * Redis: Debian's {@code redis-server} started on a free loopback port with persistence off (no RDB
 * snapshots, no AOF), {@code maxmemory} sized for the working set and LRU eviction over all keys,
 * so that a stream of PUTs of fresh keys evicts instead of failing. Redis's defaults already accept
 * the blocks used here ({@code proto-max-bulk-len} 512 MB, {@code client-query-buffer-limit} 1 GB);
 * its I/O threads stay at the default (one). Spoken to in RESP ({@link RespConnection}).
 *
 * <p>Immutable and thread-safe.
 */
final class Redis implements Target {
  /** The binary looked for on the PATH. */
  static final String BINARY = "redis-server";

  /** Redis's default {@code proto-max-bulk-len}, 512 MB. */
  static final int MAX_BLOCK_BYTES = 512 << 20;

  private final Path binary;
  private final Path workDir;
  private final long memoryBytes;

  /**
   * @param memoryBytes Redis's {@code maxmemory}
   */
  Redis(Path binary, Path workDir, long memoryBytes) {
    this.binary = binary;
    this.workDir = workDir;
    this.memoryBytes = memoryBytes;
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public String describe() {
    return ServerProcess.firstLineOf(List.of(binary.toString(), "--version"))
        + " (no RDB, no AOF, maxmemory "
        + Units.formatBytes(memoryBytes)
        + ", allkeys-lru, io-threads 1)";
  }

  /** The command line for {@code port}. */
  List<String> command(int port) {
    return List.of(
        binary.toString(),
        "--port",
        Integer.toString(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--maxmemory",
        Long.toString(memoryBytes),
        "--maxmemory-policy",
        "allkeys-lru",
        "--daemonize",
        "no",
        "--dir",
        workDir.toString());
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    if (maxBlockBytes > MAX_BLOCK_BYTES) {
      throw new IOException(
          "redis accepts values up to 512 MB (proto-max-bulk-len); "
              + maxBlockBytes
              + " bytes is too much");
    }
    return ServerProcess.start(name(), this::command, workDir);
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return new RespConnection(Wire.connect(address));
  }
}
