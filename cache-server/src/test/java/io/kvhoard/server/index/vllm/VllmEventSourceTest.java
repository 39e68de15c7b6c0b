package io.kvhoard.server.index.vllm;

import static io.kvhoard.server.index.vllm.Msgpack.list;
import static io.kvhoard.server.index.vllm.Msgpack.pack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.BlockEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The source against a vLLM-shaped publisher written with JeroMQ on loopback: an XPUB (wire-equal
 * to vLLM's PUB, and it tells when the subscriber has joined) and a ROUTER replay socket answering
 * as {@code ZmqEventPublisher._service_replay} does.
 */
class VllmEventSourceTest {
  private static final byte[] TOPIC = "kv@vllm-0@m".getBytes(StandardCharsets.UTF_8);

  private final ZContext ctx = new ZContext(1);
  private final ExecutorService executor = Executors.newSingleThreadExecutor();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final RecordingSink sink = new RecordingSink();
  private final List<byte[]> published = new ArrayList<>();
  private ZMQ.Socket pub;
  private ZMQ.Socket router;
  private int pubPort;
  private int routerPort;

  @AfterEach
  void tearDown() throws InterruptedException {
    ctx.close();
    executor.shutdownNow();
    assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
  }

  private void bind(boolean withReplay) {
    pub = ctx.createSocket(SocketType.XPUB);
    pub.setLinger(0);
    pubPort = pub.bindToRandomPort("tcp://127.0.0.1");
    if (withReplay) {
      router = ctx.createSocket(SocketType.ROUTER);
      router.setLinger(0);
      routerPort = router.bindToRandomPort("tcp://127.0.0.1");
    }
  }

  private VllmEventSource source(boolean withReplay, Duration timeout) {
    VllmEndpoint e =
        new VllmEndpoint(
            "vllm-0",
            "",
            "tcp://127.0.0.1:" + pubPort,
            withReplay ? "tcp://127.0.0.1:" + routerPort : null);
    return VllmEventSource.newBuilder()
        .endpoints(List.of(e))
        .sink(sink)
        .registry(registry)
        .executor(executor)
        .replayTimeout(timeout)
        .build()
        .start();
  }

  /** Waits until the source's SUB socket has subscribed. */
  private void awaitSubscriber() {
    pub.setReceiveTimeOut(15_000);
    byte[] sub = pub.recv(0);
    assertNotNull(sub, "no subscriber within 15 s");
    assertEquals(1, sub[0], "a subscribe message");
  }

  /** Records batch {@code seq} for replay; publishes it unless {@code skip}. */
  private void publish(long seq, boolean skip) {
    byte[] payload = pack(list(1.0, list(list("BlockRemoved", list(seq), "GPU"))));
    published.add(payload);
    if (!skip) {
      pub.sendMore(TOPIC);
      pub.sendMore(ByteBuffer.allocate(8).putLong(seq).array());
      pub.send(payload);
    }
  }

  /** Answers one replay request as vLLM does. */
  private void serveReplay() {
    router.setReceiveTimeOut(5_000);
    byte[] identity = router.recv(0);
    assertNotNull(identity, "no replay request within 5 s");
    assertEquals(0, router.recv(0).length, "the empty delimiter");
    long start = ByteBuffer.wrap(router.recv(0)).getLong();
    for (long seq = start; seq < published.size(); seq++) {
      router.sendMore(identity);
      router.sendMore(new byte[0]);
      router.sendMore(ByteBuffer.allocate(8).putLong(seq).array());
      router.send(published.get((int) seq));
    }
    router.sendMore(identity);
    router.sendMore(new byte[0]);
    router.sendMore(ByteBuffer.allocate(8).putLong(-1).array());
    router.send(new byte[0]);
  }

  private static long hashOf(BlockEvent e) {
    return ByteBuffer.wrap(e.getRemoved().getKeys(0).getDigest().toByteArray()).getLong();
  }

  @Test
  void source_gapWithReplaySocket_deliversTheMissedBatchesInOrder() throws Exception {
    bind(true);
    VllmEventSource s = source(true, Duration.ofSeconds(5));
    try {
      awaitSubscriber();
      publish(0, false);
      publish(1, true);
      publish(2, true);
      publish(3, false);
      serveReplay();
      publish(4, false);

      List<BlockEvent> got = sink.take(5, 10);

      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), got.stream().map(e -> hashOf(e)).toList());
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), got.stream().map(BlockEvent::getSequence).toList());
      assertEquals("vllm-0", got.get(0).getPod());
      assertEquals("m", got.get(0).getNamespace().getModelId());
      assertEquals(
          1.0, registry.get("kvhoard.vllm.replays").tag("outcome", "ok").counter().count());
    } finally {
      s.close();
    }
  }

  @Test
  void source_gapWithoutReplaySocket_clearsThePodAndGoesOn() throws Exception {
    bind(false);
    VllmEventSource s = source(false, Duration.ofSeconds(5));
    try {
      awaitSubscriber();
      publish(0, false);
      publish(1, true);
      publish(2, false);

      List<BlockEvent> got = sink.take(3, 10);

      assertEquals(0L, hashOf(got.get(0)));
      assertTrue(got.get(1).hasCleared());
      assertEquals(2L, hashOf(got.get(2)));
    } finally {
      s.close();
    }
  }

  @Test
  void source_malformedFramesAndPayloads_areDroppedAndTheLoopGoesOn() throws Exception {
    bind(false);
    VllmEventSource s = source(false, Duration.ofSeconds(5));
    try {
      awaitSubscriber();
      pub.send("just-one-frame");
      pub.sendMore(TOPIC);
      pub.sendMore(new byte[] {1, 2, 3}); // a sequence that is not 8 bytes
      pub.send(new byte[] {1});
      pub.sendMore(TOPIC);
      pub.sendMore(ByteBuffer.allocate(8).putLong(0).array());
      pub.send(new byte[] {(byte) 0xc1, 0x00}); // not msgpack
      publish(1, false);

      List<BlockEvent> got = sink.take(1, 10);

      assertEquals(1L, hashOf(got.get(0)));
      assertEquals(
          2.0, registry.get("kvhoard.vllm.frames.malformed").counter().count(), "two bad shapes");
      assertEquals(1.0, registry.get("kvhoard.vllm.decode.errors").counter().count());
    } finally {
      s.close();
    }
  }

  @Test
  void close_stopsTheLoopThread() throws Exception {
    bind(false);
    VllmEventSource s = source(false, Duration.ofSeconds(5));
    awaitSubscriber();

    s.close();
    s.close();

    executor.shutdown();
    assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS), "the loop ended");
  }

  @Test
  void builder_missingPartsOrDuplicatePods_failsFast() {
    VllmEndpoint a = new VllmEndpoint("a", "", "tcp://127.0.0.1:5557", null);
    assertThrows(
        IllegalStateException.class,
        () -> VllmEventSource.newBuilder().endpoints(List.of(a)).build());
    assertThrows(
        IllegalStateException.class,
        () ->
            VllmEventSource.newBuilder()
                .endpoints(List.of(a, a))
                .sink(sink)
                .registry(registry)
                .executor(executor)
                .build());
    assertThrows(
        IllegalArgumentException.class,
        () -> VllmEventSource.newBuilder().replayTimeout(Duration.ZERO));
  }
}
