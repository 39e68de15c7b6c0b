package io.kvhoard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.PublishResponse;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.server.config.Setting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index APIs of a whole server over loopback: gRPC Publish, HTTP POST /v1/score, metrics. */
class IndexApiServerTest {
  @TempDir Path dir;

  static final Namespace NS =
      Namespace.newBuilder().setModelId("m").setLoraName("sql").setCacheSalt("t1").build();

  static BlockEvent stored(String pod, int blocks, Tier tier) {
    BlockStored.Builder s = BlockStored.newBuilder().setBlockTokens(16).setTier(tier);
    for (int b = 0; b < blocks; b++) {
      s.addKeys(
          BlockKey.newBuilder()
              .setDigest(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, 500 + b))));
      for (int t = 0; t < 16; t++) {
        s.addTokenIds(b * 16 + t);
      }
    }
    return BlockEvent.newBuilder().setNamespace(NS).setPod(pod).setStored(s).build();
  }

  static HttpResponse<String> post(KvHoardServer s, String path, String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.httpAddress().getPort() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json")
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  static String tokens(int n) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",").append(i);
    }
    return b.append(']').toString();
  }

  @Test
  void publishOverGrpc_scoreOverHttp_podsTiersAndOrder() throws Exception {
    try (KvHoardServer s =
        KvHoardServer.start(
            TestServers.config(
                dir, "4m", "0", Setting.PAGE_SIZE, "64k", Setting.INDEX_CAPACITY, "100000"))) {
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", s.grpcAddress().getPort())
              .usePlaintext()
              .build();
      try {
        CompletableFuture<PublishResponse> done = new CompletableFuture<>();
        StreamObserver<BlockEvent> in =
            IndexServiceGrpc.newStub(ch)
                .publish(
                    new StreamObserver<>() {
                      @Override
                      public void onNext(PublishResponse r) {
                        done.complete(r);
                      }

                      @Override
                      public void onError(Throwable t) {
                        done.completeExceptionally(t);
                      }

                      @Override
                      public void onCompleted() {}
                    });
        in.onNext(stored("pod-a", 3, Tier.TIER_GPU));
        in.onNext(stored("pod-b", 6, Tier.TIER_HOST));
        in.onCompleted();
        assertEquals(2, done.get(30, TimeUnit.SECONDS).getAccepted());
      } finally {
        ch.shutdownNow();
      }
      HttpResponse<String> r =
          post(
              s,
              "/v1/score",
              "{\"model\":\"m\",\"lora_name\":\"sql\",\"cache_salt\":\"t1\",\"token_ids\":"
                  + tokens(100)
                  + "}");
      assertEquals(200, r.statusCode(), r.body());
      JsonNode pods = new ObjectMapper().readTree(r.body()).get("pods");
      assertEquals(2, pods.size(), r.body());
      assertEquals("pod-b", pods.get(0).get("pod").asText());
      assertEquals(6, pods.get(0).get("blocks").asInt());
      assertEquals(96, pods.get(0).get("tokens").asInt());
      assertEquals(6, pods.get(0).get("tiers").get("host").asInt());
      assertEquals(0, pods.get(0).get("tiers").get("gpu").asInt());
      assertEquals("pod-a", pods.get(1).get("pod").asText());
      assertEquals(3, pods.get(1).get("tiers").get("gpu").asInt());
      assertTrue(pods.get(0).get("score").asDouble() > pods.get(1).get("score").asDouble());

      // load given by the caller moves the busy pod down
      HttpResponse<String> loaded =
          post(
              s,
              "/v1/score",
              "{\"model\":\"m\",\"lora_name\":\"sql\",\"cache_salt\":\"t1\",\"token_ids\":"
                  + tokens(100)
                  + ",\"pod_load\":{\"pod-b\":2}}");
      assertEquals(
          "pod-a",
          new ObjectMapper().readTree(loaded.body()).get("pods").get(0).get("pod").asText());

      // another tenant's salt matches nothing
      JsonNode other =
          new ObjectMapper()
              .readTree(
                  post(s, "/v1/score", "{\"model\":\"m\",\"token_ids\":" + tokens(100) + "}")
                      .body());
      for (JsonNode p : other.get("pods")) {
        assertEquals(0, p.get("blocks").asInt());
      }

      HttpResponse<String> bad = post(s, "/v1/score", "{\"model\":\"m\",\"token_ids\":[1,");
      assertEquals(400, bad.statusCode());
      assertTrue(bad.body().contains("not JSON"), bad.body());
      HttpResponse<String> noModel = post(s, "/v1/score", "{\"token_ids\":[1]}");
      assertEquals(400, noModel.statusCode());
      assertTrue(noModel.body().contains("\"model\\\" is required"), noModel.body());
      HttpResponse<String> badToken =
          post(s, "/v1/score", "{\"model\":\"m\",\"token_ids\":[1,\"x\"]}");
      assertEquals(400, badToken.statusCode());
      assertTrue(badToken.body().contains("token_ids"), badToken.body());

      String metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + s.httpAddress().getPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertTrue(metrics.contains("kvhoard_index_entries 9.0"), metrics);
      assertTrue(metrics.contains("kvhoard_index_events_total{outcome=\"applied\"} 2.0"), metrics);
      assertTrue(metrics.contains("kvhoard_index_score_seconds_count 3"), metrics);
    }
  }
}
