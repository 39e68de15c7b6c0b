package io.kvhoard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.key.DType;
import io.kvhoard.protocol.key.KvLayout;
import io.kvhoard.protocol.key.Namespace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The client's own behaviour without a real server: builder validation, and the never-block
 * guarantee against a server that accepts connections and never answers, or one that is not there.
 * (Against real servers: cache-server's {@code cluster/ClusterEndToEndTest}.)
 */
class KvHoardClientTest {
  static final KvLayout LAYOUT = KvLayout.of(2, 2, 64, DType.BFLOAT16, 16); // 16 KiB blocks
  static final Namespace NS =
      Namespace.newBuilder().modelId("test").layout(LAYOUT).hashSeed("0").build();
  static final int BLOCK = (int) LAYOUT.bytesPerBlock();

  /** Accepts connections and never reads or answers: a stalled server. */
  static final class SilentServer implements AutoCloseable {
    final ServerSocket socket;
    final List<Socket> accepted = new ArrayList<>();

    SilentServer() throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket s = socket.accept();
                    synchronized (accepted) {
                      accepted.add(s);
                    }
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
    }

    ServerAddress address() {
      return new ServerAddress("127.0.0.1", socket.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      socket.close();
      synchronized (accepted) {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  static int[] tokens(int blocks) {
    int[] t = new int[blocks * 16];
    for (int i = 0; i < t.length; i++) {
      t[i] = i;
    }
    return t;
  }

  @Test
  void retrieve_stalledServer_returnsEmptyPrefixAtTheDeadline_andCountsATimeout()
      throws IOException {
    try (SilentServer silent = new SilentServer();
        KvHoardClient c =
            KvHoardClient.newBuilder()
                .namespace(NS)
                .servers(List.of(silent.address()))
                .deadline(Duration.ofMillis(300))
                .build()) {
      ByteBuffer dst = ByteBuffer.allocateDirect(8 * BLOCK);
      long t0 = System.nanoTime();
      RetrieveResult r = c.retrieve(tokens(8), BlockMemory.contiguous(dst, BLOCK));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(new RetrieveResult(0, 0, StopReason.TIMEOUT), r);
      assertTrue(ms >= 290 && ms <= 400, "took " + ms + " ms");
      assertEquals(
          1.0,
          c.meterRegistry()
              .find("kvhoard.client.server.failures")
              .tag("kind", "timeout")
              .counter()
              .count());
      assertEquals(
          8.0,
          c.meterRegistry()
              .find("kvhoard.client.blocks")
              .tag("outcome", "timeout")
              .counter()
              .count());
      // backed off now: no server is live, and the call does not wait
      assertEquals(
          StopReason.NO_SERVERS, c.retrieve(tokens(8), BlockMemory.contiguous(dst, BLOCK)).stop());
    }
  }

  @Test
  void store_deadServer_failsFastWithoutThrowing_strictModeThrowsRetriable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed: nobody listens there now
    }
    ServerAddress dead = new ServerAddress("127.0.0.1", port);
    ByteBuffer src = ByteBuffer.allocateDirect(4 * BLOCK);
    try (KvHoardClient c =
        KvHoardClient.newBuilder().namespace(NS).servers(List.of(dead)).build()) {
      StoreResult r = c.store(tokens(4), BlockMemory.contiguous(src, BLOCK));
      assertEquals(new StoreResult(4, 0, 0, StopReason.SERVER_FAILED), r);
      assertEquals(4, r.failed());
    }
    try (KvHoardClient c =
        KvHoardClient.newBuilder().namespace(NS).servers(List.of(dead)).strict(true).build()) {
      var e = assertThrows(ServerUnavailableException.class, () -> c.lookup(tokens(4)));
      assertTrue(e.isRetriable());
    }
  }

  @Test
  void builder_missingOrBadSettings_failFastNamingThem() {
    var noNs =
        assertThrows(
            IllegalStateException.class, () -> KvHoardClient.newBuilder().servers("h:1").build());
    assertTrue(noNs.getMessage().contains("namespace"));
    var noServers =
        assertThrows(
            IllegalStateException.class, () -> KvHoardClient.newBuilder().namespace(NS).build());
    assertTrue(noServers.getMessage().contains("servers"));
    assertThrows(
        IllegalArgumentException.class, () -> KvHoardClient.newBuilder().connectionsPerServer(0));
    assertThrows(
        IllegalArgumentException.class, () -> KvHoardClient.newBuilder().deadline(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> KvHoardClient.newBuilder().replicas(0));
    assertThrows(
        IllegalArgumentException.class, () -> KvHoardClient.newBuilder().framesInFlight(0));
    assertThrows(
        IllegalArgumentException.class, () -> KvHoardClient.newBuilder().servers("nohost"));
    assertThrows(
        IllegalArgumentException.class,
        () -> KvHoardClient.newBuilder().backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
  }

  @Test
  void retrieve_memoryOfAnotherBlockSize_isRejected() {
    try (KvHoardClient c =
        KvHoardClient.newBuilder().namespace(NS).servers("127.0.0.1:1").build()) {
      BlockMemory wrong = BlockMemory.contiguous(ByteBuffer.allocate(4 * BLOCK), BLOCK / 2);
      var e = assertThrows(IllegalArgumentException.class, () -> c.retrieve(tokens(1), wrong));
      assertTrue(e.getMessage().contains("layout"), e.getMessage());
    }
  }

  @Test
  void retrieve_promptShorterThanABlock_isCompleteWithNothingToDo() {
    try (KvHoardClient c =
        KvHoardClient.newBuilder().namespace(NS).servers("127.0.0.1:1").build()) {
      BlockMemory m = BlockMemory.contiguous(ByteBuffer.allocate(BLOCK), BLOCK);
      assertEquals(new RetrieveResult(0, 0, StopReason.COMPLETE), c.retrieve(new int[15], m));
    }
  }
}
