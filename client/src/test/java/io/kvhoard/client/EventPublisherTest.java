package io.kvhoard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.DType;
import io.kvhoard.protocol.key.KvLayout;
import io.kvhoard.protocol.key.Namespace;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.protocol.v1.PublishResponse;
import io.kvhoard.protocol.v1.Tier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The publisher sends well-formed BlockStored events to an in-process fake index service. */
class EventPublisherTest {
  static final Namespace NS =
      Namespace.newBuilder()
          .modelId("Qwen/Qwen3-0.6B")
          .layout(KvLayout.of(28, 8, 128, DType.BFLOAT16, 4))
          .hashSeed("42")
          .loraName("sql")
          .build();

  /** The fake: records every event of every Publish stream. */
  static final class FakeIndex extends IndexServiceGrpc.IndexServiceImplBase {
    final LinkedBlockingQueue<BlockEvent> events = new LinkedBlockingQueue<>();
    volatile int streams;
    volatile boolean completed;

    @Override
    public StreamObserver<BlockEvent> publish(StreamObserver<PublishResponse> response) {
      streams++;
      return new StreamObserver<>() {
        long accepted;

        @Override
        public void onNext(BlockEvent e) {
          events.add(e);
          accepted++;
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          completed = true;
          response.onNext(PublishResponse.newBuilder().setAccepted(accepted).build());
          response.onCompleted();
        }
      };
    }
  }

  final FakeIndex index = new FakeIndex();
  Server server;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name).directExecutor().addService(index).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  EventPublisher publisher() {
    Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_123L), ZoneOffset.UTC);
    return new EventPublisher(
        "vllm-0", NS, channel, null, clock, new ClientMetrics(new SimpleMeterRegistry()));
  }

  @Test
  void stored_runOfBlocks_carriesKeysParentTokensBlockSizeTierAndNamespace() throws Exception {
    int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    List<BlockKey> keys = NS.hasher().hash(tokens);
    try (EventPublisher p = publisher()) {
      p.stored(keys, 1, 3, tokens, 4, BlockTier.HOST); // blocks 1 and 2: tokens 4..11
      BlockEvent e = index.events.poll(5, TimeUnit.SECONDS);
      assertEquals("vllm-0", e.getPod());
      assertEquals(1, e.getSequence());
      assertEquals(1_700_000_000_123L, e.getTimestampMs());
      assertEquals("Qwen/Qwen3-0.6B", e.getNamespace().getModelId());
      assertEquals(28, e.getNamespace().getLayout().getLayers());
      assertEquals(
          io.kvhoard.protocol.v1.DType.DTYPE_BFLOAT16, e.getNamespace().getLayout().getDtype());
      assertEquals("sql", e.getNamespace().getLoraName());
      assertEquals("42", e.getNamespace().getHashSeed());
      assertTrue(e.hasStored());
      var s = e.getStored();
      assertEquals(2, s.getKeysCount());
      assertEquals(keys.get(1), BlockKey.of(s.getKeys(0).getDigest().toByteArray()));
      assertEquals(keys.get(2), BlockKey.of(s.getKeys(1).getDigest().toByteArray()));
      assertEquals(keys.get(0), BlockKey.of(s.getParentKey().getDigest().toByteArray()));
      assertEquals(List.of(5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L), s.getTokenIdsList());
      assertEquals(4, s.getBlockTokens());
      assertEquals(Tier.TIER_HOST, s.getTier());
    }
    assertTrue(index.completed, "close() ends the stream");
  }

  @Test
  void stored_firstRun_hasNoParent_andSequencesIncreaseByOneOnOneStream() throws Exception {
    int[] tokens = new int[16];
    List<BlockKey> keys = NS.hasher().hash(tokens);
    try (EventPublisher p = publisher()) {
      p.stored(keys, 0, 2, tokens, 4, BlockTier.HOST);
      p.stored(keys, 3, 4, tokens, 4, BlockTier.DISK);
      BlockEvent first = index.events.poll(5, TimeUnit.SECONDS);
      BlockEvent second = index.events.poll(5, TimeUnit.SECONDS);
      assertFalse(first.getStored().hasParentKey());
      assertEquals(1, first.getSequence());
      assertEquals(2, second.getSequence());
      assertEquals(Tier.TIER_DISK, second.getStored().getTier());
      assertEquals(1, index.streams);
    }
  }
}
