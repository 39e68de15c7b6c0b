package io.kvhoard.server.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockKeys;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.FollowRequest;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.PodScore;
import io.kvhoard.protocol.v1.PublishResponse;
import io.kvhoard.protocol.v1.ScoreRequest;
import io.kvhoard.protocol.v1.ScoreResponse;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.protocol.v1.TierCounts;
import io.kvhoard.protocol.v1.TokenIds;
import io.kvhoard.server.index.EventJournal;
import io.kvhoard.server.index.PrefixIndex;
import io.kvhoard.server.index.Scorer;
import io.kvhoard.server.index.Scoring;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** IndexService in process: publish vLLM-style events, score, follow. */
class IndexGrpcServiceTest {
  static final Namespace NS = Namespace.newBuilder().setModelId("llama").build();

  PrefixIndex index;
  EventJournal journal;
  Server server;
  ManagedChannel channel;
  IndexServiceGrpc.IndexServiceBlockingStub blocking;
  IndexServiceGrpc.IndexServiceStub async;

  @BeforeEach
  void start() throws Exception {
    index = PrefixIndex.newBuilder().capacity(10_000).build();
    journal = new EventJournal(100);
    Scoring scoring = new Scoring(index, Scorer.newBuilder().build(), n -> {});
    String name = "index-" + System.identityHashCode(this);
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                new IndexGrpcService(
                    scoring,
                    e -> {
                      journal.accept(e);
                      index.accept(e);
                    },
                    journal))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking = IndexServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    async = IndexServiceGrpc.newStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdownNow();
    assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
    index.close();
  }

  static BlockKey key(long k) {
    return BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, k)))
        .build();
  }

  static BlockEvent stored(String pod, long seq, int blocks, Tier tier) {
    BlockStored.Builder s = BlockStored.newBuilder().setBlockTokens(16).setTier(tier);
    for (int b = 0; b < blocks; b++) {
      s.addKeys(key(1000 + b));
      for (int t = 0; t < 16; t++) {
        s.addTokenIds(b * 16 + t);
      }
    }
    return BlockEvent.newBuilder()
        .setNamespace(NS)
        .setPod(pod)
        .setSequence(seq)
        .setStored(s)
        .build();
  }

  long publish(BlockEvent... events) throws Exception {
    CompletableFuture<PublishResponse> done = new CompletableFuture<>();
    StreamObserver<BlockEvent> in =
        async.publish(
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
    for (BlockEvent e : events) {
      in.onNext(e);
    }
    in.onCompleted();
    return done.get(30, TimeUnit.SECONDS).getAccepted();
  }

  static ScoreRequest tokens(int n, String... pods) {
    TokenIds.Builder t = TokenIds.newBuilder();
    for (int i = 0; i < n; i++) {
      t.addIds(i);
    }
    return ScoreRequest.newBuilder()
        .setNamespace(NS)
        .setTokenIds(t)
        .addAllPods(List.of(pods))
        .build();
  }

  @Test
  void score_afterPublish_podsByBlocksAndTiersBestFirst() throws Exception {
    assertEquals(
        3,
        publish(
            stored("a", 1, 2, Tier.TIER_GPU),
            stored("b", 1, 4, Tier.TIER_HOST),
            stored("c", 1, 1, Tier.TIER_DISK)));
    ScoreResponse r = blocking.score(tokens(64 + 5));
    assertEquals(List.of("b", "a", "c"), r.getPodsList().stream().map(PodScore::getPod).toList());
    PodScore b = r.getPods(0);
    assertEquals(4, b.getBlocks());
    assertEquals(64, b.getTokens());
    assertEquals(TierCounts.newBuilder().setHost(4).build(), b.getTiers());
    assertEquals(TierCounts.newBuilder().setGpu(2).build(), r.getPods(1).getTiers());
    assertEquals(TierCounts.newBuilder().setDisk(1).build(), r.getPods(2).getTiers());
    assertTrue(r.getPods(0).getScore() > r.getPods(1).getScore());
  }

  @Test
  void score_loadOnTheBestPod_movesItDown() throws Exception {
    publish(stored("a", 1, 4, Tier.TIER_GPU), stored("b", 1, 2, Tier.TIER_GPU));
    ScoreRequest req = tokens(64).toBuilder().putPodLoad("a", 5.0).build();
    assertEquals("b", blocking.score(req).getPods(0).getPod());
  }

  @Test
  void score_candidates_onlyThoseAndUnknownWithZero() throws Exception {
    publish(stored("a", 1, 4, Tier.TIER_GPU), stored("b", 1, 2, Tier.TIER_GPU));
    ScoreResponse r = blocking.score(tokens(64, "b", "z"));
    assertEquals(List.of("b", "z"), r.getPodsList().stream().map(PodScore::getPod).toList());
    assertEquals(0, r.getPods(1).getBlocks());
  }

  @Test
  void score_byKeysOfKeyOnlyPublisher_countsPublisherBlockTokens() throws Exception {
    publish(
        BlockEvent.newBuilder()
            .setNamespace(NS)
            .setPod("k")
            .setStored(
                BlockStored.newBuilder()
                    .addKeys(key(7))
                    .addKeys(key(8))
                    .setBlockTokens(256)
                    .setTier(Tier.TIER_GPU))
            .build());
    ScoreResponse r =
        blocking.score(
            ScoreRequest.newBuilder()
                .setNamespace(NS)
                .setKeys(BlockKeys.newBuilder().addKeys(key(7)).addKeys(key(8)).addKeys(key(9)))
                .build());
    assertEquals(2, r.getPods(0).getBlocks());
    assertEquals(512, r.getPods(0).getTokens());
  }

  @Test
  void score_noPromptOrBadKey_invalidArgument() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> blocking.score(ScoreRequest.newBuilder().setNamespace(NS).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("token_ids"));
    StatusRuntimeException k =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                blocking.score(
                    ScoreRequest.newBuilder()
                        .setKeys(BlockKeys.newBuilder().addKeys(BlockKey.getDefaultInstance()))
                        .build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, k.getStatus().getCode());
  }

  @Test
  void follow_resumeAfter_replaysLaterEventsThenLive() throws Exception {
    publish(
        stored("a", 1, 1, Tier.TIER_GPU),
        stored("a", 2, 1, Tier.TIER_GPU),
        stored("b", 1, 1, Tier.TIER_GPU));
    Iterator<BlockEvent> it =
        IndexServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .follow(FollowRequest.newBuilder().putResumeAfter("a", 1).build());
    // after a's sequence 1: a's 2 and all of b's, in pod order per pod
    List<String> got = new ArrayList<>(List.of(it.next().getPod(), it.next().getPod()));
    got.sort(null);
    assertEquals(List.of("a", "b"), got);
    publish(stored("c", 9, 1, Tier.TIER_GPU));
    BlockEvent live = it.next();
    assertEquals("c", live.getPod());
    assertEquals(9, live.getSequence());
    assertEquals(1, journal.followers());
  }
}
