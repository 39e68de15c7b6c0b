package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memcached and Redis targets against the real servers, installed with perf/scripts/install-
 * peers.sh when missing. Where they cannot be installed (not root, no apt-get) the tests are
 * skipped; where they could be, a failed install fails them.
 */
class PeerTargetsTest {
  @TempDir static Path dir;
  private static final Peers PEERS = new Peers(System.getenv("PATH"));

  @BeforeAll
  static void installPeers() throws IOException {
    try {
      PEERS.ensureInstalled(List.of(Memcached.BINARY, Redis.BINARY), dir);
    } catch (IOException e) {
      boolean canInstall =
          "root".equals(System.getProperty("user.name")) && PEERS.which("apt-get").isPresent();
      if (canInstall) {
        throw e;
      }
      assumeTrue(false, "memcached/redis-server missing and not installable here: " + e);
    }
  }

  private static Target target(String name) {
    long memory = 256L << 20;
    return name.equals("memcached")
        ? new Memcached(
            PEERS.which(Memcached.BINARY).orElseThrow(),
            dir,
            memory,
            System.getProperty("user.name"))
        : new Redis(PEERS.which(Redis.BINARY).orElseThrow(), dir, memory);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memcached", "redis"})
  void peer_putGetAndMiss_speakItsProtocol_upTo32MiB(String name) throws IOException {
    Target target = target(name);
    try (Server server = target.start(32 << 20);
        Connection c = target.connect(server.address())) {
      for (int size : new int[] {1000, 256 << 10, 32 << 20}) {
        long id = size;
        c.put(id, Harness.block(size, id));
        ByteBuffer dst = BlockContent.newBuffer(32 << 20, 0);
        assertEquals(size, c.get(id, dst), name + " " + size);
        assertDoesNotThrow(() -> BlockContent.verify(name, id, size, dst));
      }
      assertEquals(-1, c.get(12345, BlockContent.newBuffer(1024, 0)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memcached", "redis"})
  void loadRun_putAndVerifiedGetOverTwoConnections(String name) throws IOException {
    Target target = target(name);
    LoadRun run = Harness.run(256 << 10, 2);
    try (Server server = target.start(256 << 10)) {
      LoadRun.Result put =
          run.measure(target, server, Harness.plan(Op.PUT, 2, 16 << 20, 0, 1L << 40));
      assertEquals(64, put.ops());
      LoadRun.Result get =
          run.measure(target, server, Harness.plan(Op.GET, 2, 16 << 20, 4 << 20, 2L << 40));
      assertEquals(64, get.ops());
      assertTrue(get.serverCpuSeconds().isPresent(), "CPU time of " + server);
    }
  }
}
