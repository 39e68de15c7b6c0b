package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A server process the benchmark started on a loopback port: started, waited for until it accepts
 * connections, and stopped (SIGTERM, then SIGKILL after a grace period) on {@link #close()}. Its
 * output goes to a log file in the run's work directory, quoted when it fails to start.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
final class ServerProcess implements Server {
  /** How long a started server gets to accept connections. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int START_ATTEMPTS = 3;

  private final String name;
  private final Process process;
  private final InetSocketAddress address;
  private final Path log;

  private ServerProcess(String name, Process process, InetSocketAddress address, Path log) {
    this.name = name;
    this.process = process;
    this.address = address;
    this.log = log;
  }

  /** Builds the command line of a server listening on 127.0.0.1:{@code port}. */
  @FunctionalInterface
  interface CommandLine {
    List<String> forPort(int port);
  }

  /**
   * Starts {@code name} on a free loopback port and waits until it accepts connections. A port
   * taken by someone else between choosing and binding it makes the server exit; it is then started
   * again on another port (three attempts).
   *
   * @throws IOException with the server's last output if it exits or does not listen in time
   */
  static ServerProcess start(String name, CommandLine command, Path workDir) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      int port = freePort();
      Path log = workDir.resolve(name + "-" + port + ".log");
      Process process =
          new ProcessBuilder(command.forPort(port))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      ServerProcess server =
          new ServerProcess(
              name, process, new InetSocketAddress(InetAddress.getLoopbackAddress(), port), log);
      try {
        server.awaitReady(READY_TIMEOUT);
        return server;
      } catch (IOException e) {
        last = e;
        server.close();
      } catch (RuntimeException e) {
        server.close();
        throw e;
      }
    }
    throw last;
  }

  /**
   * The first line {@code command} prints (a version banner), or {@code "unknown version"} if it
   * fails or takes more than 10 seconds.
   */
  static String firstLineOf(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          return "unknown version";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return out.lines().findFirst().orElse("unknown version").strip();
      } finally {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      return "unknown version";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown version";
    }
  }

  /** A loopback port nobody listens on now (the OS's choice). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IOException(
            name
                + " exited with status "
                + process.exitValue()
                + " before listening on port "
                + address.getPort()
                + "; its output:\n"
                + logTail());
      }
      try {
        SocketChannel.open(address).close();
        return;
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            name
                + " did not listen on port "
                + address.getPort()
                + " within "
                + timeout.toSeconds()
                + " s; its output:\n"
                + logTail());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  /** The last lines of the server's output. */
  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public OptionalLong pid() {
    return OptionalLong.of(process.pid());
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // left in the work directory, which the run deletes
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ", port " + address.getPort() + ")";
  }
}
