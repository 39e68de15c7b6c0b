package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness against the raw pump, started as the benchmark starts it: a child JVM. */
class RawPumpTest {
  @TempDir Path dir;

  @Test
  void rawPump_putGetMissAndTooSmall_answerByTheProtocol() throws IOException {
    RawPump pump = Harness.rawPump(dir);
    try (Server server = pump.start(1 << 20);
        Connection c = pump.connect(server.address())) {
      ByteBuffer block = Harness.block(100_000, 7);
      c.put(7, block);
      assertEquals(0, block.position(), "put leaves the caller's buffer as it was");
      ByteBuffer dst = BlockContent.newBuffer(200_000, 0);
      assertEquals(100_000, c.get(7, dst));
      assertDoesNotThrow(() -> BlockContent.verify("raw", 7, 100_000, dst));
      assertEquals(-1, c.get(8, dst));
      assertThrows(ProtocolException.class, () -> c.get(7, ByteBuffer.allocateDirect(1000)));
    }
  }

  @Test
  void loadRun_putAndGetOverTwoConnections_countEveryOperationAndTheServersCpu()
      throws IOException {
    RawPump pump = Harness.rawPump(dir);
    LoadRun run = Harness.run(64 << 10, 2);
    try (Server server = pump.start(64 << 10)) {
      LoadRun.Result put = run.measure(pump, server, Harness.plan(Op.PUT, 2, 8 << 20, 0, 1L << 40));
      assertEquals(128, put.ops());
      assertEquals(8 << 20, put.bytes());
      assertEquals(128, put.latency().getTotalCount());
      assertTrue(put.nanos() > 0 && put.gbPerSecond() > 0);
      assertTrue(put.serverCpuSeconds().isPresent());

      LoadRun.Result get =
          run.measure(pump, server, Harness.plan(Op.GET, 2, 16 << 20, 1 << 20, 2L << 40));
      assertEquals(256, get.ops());
      assertTrue(get.latencyMs(50) > 0 && get.latencyMs(99.9) >= get.latencyMs(50));
      assertTrue(get.serverCpuSecondsPerGb().isPresent());
    }
  }

  @Test
  void close_stopsTheServerProcess() throws IOException {
    Server server = Harness.rawPump(dir).start(1 << 20);
    long pid = server.pid().getAsLong();
    assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    server.close();
    Optional<ProcessHandle> after = ProcessHandle.of(pid);
    assertFalse(after.isPresent() && after.get().isAlive(), "pid " + pid + " still runs");
  }
}
