package io.kvhoard.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.config.ServerConfig;
import io.kvhoard.server.config.Setting;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TierKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole server: ports, health, metrics, readiness, and a clean stop that disk survives. */
class KvHoardServerTest {
  @TempDir Path dir;

  ServerConfig config() throws Exception {
    return TestServers.config(dir, "4m", "64m", Setting.PAGE_SIZE, "64k");
  }

  static StoreKey key(int n) {
    byte[] b = new byte[32];
    new SplittableRandom(n).nextBytes(b);
    return new StoreKey(NamespaceId.of(1, 1), BlockKey.of(b));
  }

  static byte[] block(int n) {
    byte[] b = new byte[512 * 1024];
    new SplittableRandom(n + 100).nextBytes(b);
    return b;
  }

  static String http(KvHoardServer s, String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + s.httpAddress().getPort() + path))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  @Test
  void start_allEndpointsServe_stopAndRestart_diskBlocksSurvive() throws Exception {
    try (KvHoardServer s = KvHoardServer.start(config())) {
      assertTrue(s.ready());
      assertTrue(http(s, "/healthz").startsWith("200"));
      assertTrue(http(s, "/readyz").startsWith("200"));
      assertTrue(http(s, "/nope").startsWith("404"));
      for (int i = 0; i < 30; i++) { // 15 MiB into a 4 MiB host tier: most are demoted to disk
        byte[] d = block(i);
        CRC32C c = new CRC32C();
        c.update(d);
        try (BlockWriter w = s.store().reserve(key(i), null, 16, d.length)) {
          w.write(0, Unpooled.wrappedBuffer(d)).join();
          w.commit((int) c.getValue()).join();
        }
      }
      String metrics = http(s, "/metrics");
      assertTrue(metrics.contains("kvhoard_tier_capacity_bytes{tier=\"host\"} 4194304"), metrics);
      assertTrue(metrics.contains("kvhoard_store_puts_total 30"), metrics);
      assertTrue(metrics.contains("kvhoard_data_connections"), metrics);
      assertTrue(metrics.contains("kvhoard_data_inflight_bytes 0.0"), metrics);
      assertTrue(metrics.contains("kvhoard_tier_demotions_total{tier=\"host\"}"), metrics);
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", s.grpcAddress().getPort())
              .usePlaintext()
              .build();
      try {
        assertEquals(
            HealthCheckResponse.ServingStatus.SERVING,
            HealthGrpc.newBlockingStub(ch)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus());
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    try (KvHoardServer s = KvHoardServer.start(config())) {
      int found = 0;
      for (int i = 0; i < 30; i++) {
        BlockLease l = s.store().read(key(i)).join();
        if (l == null) {
          continue;
        }
        try {
          assertEquals(TierKind.DISK, l.tier(), "after a restart only disk copies exist");
          ByteBuf dst = Unpooled.buffer((int) l.length());
          l.copyTo(dst).join();
          byte[] got = new byte[dst.readableBytes()];
          dst.readBytes(got);
          assertArrayEquals(block(i), got);
          found++;
        } finally {
          l.release();
        }
      }
      assertTrue(found >= 20, "the demoted blocks survived the restart: " + found);
    }
  }
}
