package io.kvhoard.server.cluster;

import io.kvhoard.client.discovery.ServerAddress;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: a real {@code kvhoard serve} in a child JVM on 127.0.0.1 (RAM tier only, this test's
 * class path), started on a free or given data port and found ready from the line it prints. It can
 * be killed ({@code kill -9}), stopped ({@code SIGSTOP}) and continued.
 *
 * <p>Not thread-safe; {@link #close()} is idempotent.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern SERVING = Pattern.compile("data plane 127\\.0\\.0\\.1:(\\d+)");
  private static final Duration READY = Duration.ofSeconds(60);

  private final Process process;
  private final Path log;
  private final int port;

  private ServerProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /**
   * Starts a server with its data in {@code dir} on {@code port} (0: any free port) and waits until
   * it says where it serves.
   */
  static ServerProcess start(Path dir, int port, String hostCapacity) throws IOException {
    Files.createDirectories(dir);
    Path log = dir.resolve("server.log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx192m");
    cmd.add("-XX:TieredStopAtLevel=1"); // starts faster; the tests measure deadlines, not speed
    cmd.add("-XX:+UseSerialGC");
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-opens")
          || arg.startsWith("--add-exports")
          || arg.startsWith("-Dchronicle")
          || arg.startsWith("--sun-misc")
          || arg.startsWith("--enable-native")) {
        cmd.add(arg); // Chronicle Map's flags, as surefire gave them to this JVM
      }
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "io.kvhoard.server.cli.KvHoardCommand",
            "serve",
            "--bind",
            "127.0.0.1",
            "--data-dir",
            dir.resolve("data").toString(),
            "--data-port",
            Integer.toString(port),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--host-capacity",
            hostCapacity,
            "--disk-capacity",
            "0",
            "--io-threads",
            "2",
            "--index-capacity",
            "100000"));
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline) {
      String out = Files.readString(log, StandardCharsets.UTF_8);
      Matcher m = SERVING.matcher(out);
      if (m.find()) {
        return new ServerProcess(p, log, Integer.parseInt(m.group(1)));
      }
      if (!p.isAlive()) {
        throw new IOException("kvhoard serve exited with " + p.exitValue() + ":\n" + out);
      }
      try {
        p.waitFor(20, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
        throw new IOException("interrupted starting a server", e);
      }
    }
    p.destroyForcibly();
    throw new IOException("kvhoard serve did not start within " + READY + ":\n" + logText(log));
  }

  /** The data-plane address. */
  ServerAddress address() {
    return new ServerAddress("127.0.0.1", port);
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /** {@code kill -9}: the process dies at once; its sockets are reset. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** {@code kill -STOP}: the process stalls; the kernel still accepts connections for it. */
  void stop() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** {@code kill -CONT}. */
  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
    if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  String log() {
    return logText(log);
  }

  private static String logText(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        signal("CONT"); // a stopped process cannot handle SIGTERM
      } catch (IOException | InterruptedException e) {
        // killed below
      }
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
