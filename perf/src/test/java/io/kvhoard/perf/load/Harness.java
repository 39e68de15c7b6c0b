package io.kvhoard.perf.load;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;

/** What the load tests share: runs, plans and servers the harness did not start. */
final class Harness {
  private Harness() {}

  /** A load run for {@code blockBytes} blocks with the machine's clock and /proc. */
  static LoadRun run(int blockBytes, int maxConnections) {
    return new LoadRun(
        blockBytes,
        maxConnections,
        r -> {
          Thread t = new Thread(r, "test-connection");
          t.setDaemon(true);
          return t;
        },
        System::nanoTime,
        ProcFs.system());
  }

  /** A plan that measures {@code bytes} (no warm-up), with a working set of {@code workingSet}. */
  static LoadRun.Plan plan(Op op, int connections, long bytes, long workingSet, long keyBase) {
    return new LoadRun.Plan(
        op, connections, Duration.ZERO, Duration.ZERO, bytes, workingSet, keyBase);
  }

  /** The raw pump as the benchmark starts it: a child JVM on this test's class path. */
  static RawPump rawPump(Path workDir) {
    return new RawPump(
        Path.of(System.getProperty("java.home"), "bin", "java"),
        System.getProperty("java.class.path"),
        workDir,
        64 << 20);
  }

  /** A server at {@code address} that the test runs itself. */
  static Server attached(InetSocketAddress address, OptionalLong pid) {
    return new Server() {
      @Override
      public InetSocketAddress address() {
        return address;
      }

      @Override
      public OptionalLong pid() {
        return pid;
      }

      @Override
      public void close() {}
    };
  }

  /** A block of {@code bytes} stamped for {@code id}, as the harness PUTs it. */
  static ByteBuffer block(int bytes, long id) {
    ByteBuffer b = BlockContent.newBlock(bytes, id);
    BlockContent.stamp(b, id);
    return b;
  }
}
