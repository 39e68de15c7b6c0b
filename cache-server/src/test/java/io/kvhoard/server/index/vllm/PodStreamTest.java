package io.kvhoard.server.index.vllm;

import static io.kvhoard.server.index.vllm.Msgpack.list;
import static io.kvhoard.server.index.vllm.Msgpack.pack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.BlockEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodStreamTest {
  private static final byte[] TOPIC = "kv@p@m".getBytes(StandardCharsets.UTF_8);

  /** A clock the test moves. */
  private static final class FakeClock extends Clock {
    long millis = 1_000;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public long millis() {
      return millis;
    }
  }

  /** Records replay requests; answers nothing by itself. */
  private static final class FakeReplay implements PodStream.ReplayChannel {
    final List<Long> requests = new ArrayList<>();
    int resets;
    boolean available = true;

    @Override
    public boolean request(long fromSeq) {
      requests.add(fromSeq);
      return available;
    }

    @Override
    public void reset() {
      resets++;
    }
  }

  private final FakeClock clock = new FakeClock();
  private final FakeReplay replay = new FakeReplay();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<BlockEvent> out = new ArrayList<>();

  private PodStream stream(PodStream.ReplayChannel channel) {
    VllmEventDecoder d = VllmEventDecoder.newBuilder().pod("p").registry(registry).build();
    return new PodStream(d, out::add, channel, 500, clock, registry);
  }

  /** A batch removing one block whose hash is the batch's sequence: shows which batch arrived. */
  private static byte[] batch(long seq) {
    return pack(list(1.0, list(list("BlockRemoved", list(seq), "GPU"))));
  }

  /** Which batches were delivered, in order: their block hash, or "C" for a Cleared. */
  private List<String> delivered() {
    List<String> s = new ArrayList<>();
    for (BlockEvent e : out) {
      if (e.hasCleared()) {
        s.add("C");
      } else {
        byte[] k = e.getRemoved().getKeys(0).getDigest().toByteArray();
        s.add(String.valueOf(java.nio.ByteBuffer.wrap(k).getLong()));
      }
    }
    return s;
  }

  private double counter(String name, String outcome) {
    var s = registry.find(name).tag("pod", "p");
    if (outcome != null) {
      s = s.tag("outcome", outcome);
    }
    return s.counter().count();
  }

  @Test
  void onLive_inOrder_deliversEachBatchWithoutReplay() {
    PodStream s = stream(replay);

    for (long i = 5; i < 8; i++) {
      s.onLive(i, TOPIC, batch(i));
    }

    assertEquals(List.of("5", "6", "7"), delivered());
    assertTrue(replay.requests.isEmpty());
    assertEquals(List.of(0L, 1L, 2L), out.stream().map(BlockEvent::getSequence).toList());
  }

  @Test
  void onLive_gapThenCompleteReplay_deliversTheMissedBatchesInOrder() {
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));

    s.onLive(3, TOPIC, batch(3));
    s.onLive(4, TOPIC, batch(4)); // live, arrives during the replay: held
    assertEquals(List.of(1L), replay.requests);
    assertTrue(s.replaying());
    s.onReplay(1, batch(1));
    s.onReplay(2, batch(2));
    s.onReplay(3, batch(3)); // also held live: not applied twice
    s.onReplay(4, batch(4));
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of("0", "1", "2", "3", "4"), delivered());
    assertFalse(s.replaying());
    assertEquals(4, s.last());
    assertEquals(1.0, counter("kvhoard.vllm.replays", "ok"));
    assertEquals(1.0, counter("kvhoard.vllm.gaps", null));
    assertEquals(0.0, counter("kvhoard.vllm.clears", null));
  }

  @Test
  void onLive_gapWithoutReplaySocket_clearsThePodThenResumes() {
    PodStream s = stream(null);
    s.onLive(0, TOPIC, batch(0));

    s.onLive(2, TOPIC, batch(2));
    s.onLive(3, TOPIC, batch(3));

    assertEquals(List.of("0", "C", "2", "3"), delivered());
    assertFalse(out.get(1).hasNamespace(), "the whole pod");
    assertEquals(1.0, counter("kvhoard.vllm.clears", null));
  }

  @Test
  void onLive_replayRequestRefused_clearsThePod() {
    replay.available = false;
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));

    s.onLive(2, TOPIC, batch(2));

    assertEquals(List.of("0", "C", "2"), delivered());
  }

  @Test
  void onTick_replayPastItsDeadline_clearsThePodAndResumesWithTheHeldBatches() {
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));
    s.onLive(2, TOPIC, batch(2));
    s.onLive(3, TOPIC, batch(3));

    clock.millis += 499;
    s.onTick();
    assertTrue(s.replaying(), "not yet");
    clock.millis += 1;
    s.onTick();
    s.onReplay(1, batch(1)); // a late answer to the abandoned request
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of("0", "C", "2", "3"), delivered());
    assertEquals(1, replay.resets);
    assertEquals(1.0, counter("kvhoard.vllm.replays", "failed"));
    assertEquals(3, s.last());
  }

  @Test
  void onReplay_bufferStartsAfterTheLostBatches_clearsBeforeTheFirstReplayed() {
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));
    s.onLive(5, TOPIC, batch(5));

    s.onReplay(3, batch(3)); // 1 and 2 have left the publisher's buffer
    s.onReplay(4, batch(4));
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of("0", "C", "3", "4", "5"), delivered());
  }

  @Test
  void onReplay_endsBeforeTheHeldBatch_clearsThePod() {
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));
    s.onLive(5, TOPIC, batch(5));

    s.onReplay(1, batch(1));
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of("0", "1", "C", "5"), delivered());
    assertEquals(1.0, counter("kvhoard.vllm.replays", "incomplete"));
  }

  @Test
  void onLive_secondGapAmongHeldBatches_replaysAgainInOrder() {
    PodStream s = stream(replay);
    s.onLive(0, TOPIC, batch(0));
    s.onLive(2, TOPIC, batch(2));
    s.onLive(4, TOPIC, batch(4)); // held; 3 is missing too
    s.onLive(5, TOPIC, batch(5));
    s.onReplay(1, batch(1));
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of(1L, 3L), replay.requests);
    s.onReplay(3, batch(3));
    s.onReplay(-1, new byte[0]);

    assertEquals(List.of("0", "1", "2", "3", "4", "5"), delivered());
  }

  @Test
  void onLive_sequenceGoesBack_isARestart_clearsThePod() {
    PodStream s = stream(replay);
    s.onLive(7, TOPIC, batch(7));

    s.onLive(0, TOPIC, batch(0));
    s.onLive(1, TOPIC, batch(1));

    assertEquals(List.of("7", "C", "0", "1"), delivered());
    assertTrue(replay.requests.isEmpty());
    assertEquals(1.0, counter("kvhoard.vllm.restarts", null));
  }

  @Test
  void onLive_sinkThrows_isCountedAndTheStreamGoesOn() {
    VllmEventDecoder d = VllmEventDecoder.newBuilder().pod("p").registry(registry).build();
    PodStream s =
        new PodStream(
            d,
            e -> {
              if (e.getSequence() == 0) {
                throw new IllegalStateException("boom");
              }
              out.add(e);
            },
            replay,
            500,
            clock,
            registry);

    s.onLive(0, TOPIC, batch(0));
    s.onLive(1, TOPIC, batch(1));

    assertEquals(List.of("1"), delivered());
    assertEquals(1.0, counter("kvhoard.vllm.sink.errors", null));
  }
}
