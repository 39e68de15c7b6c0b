package io.kvhoard.server.index.vllm;

import static io.kvhoard.server.index.vllm.Msgpack.list;
import static io.kvhoard.server.index.vllm.Msgpack.map;
import static io.kvhoard.server.index.vllm.Msgpack.pack;
import static io.kvhoard.server.index.vllm.Msgpack.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.Tier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VllmEventDecoderTest {
  private static final byte[] TOPIC = "kv@pod-a@Qwen/Qwen3-0.6B".getBytes(StandardCharsets.UTF_8);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final VllmEventDecoder decoder =
      VllmEventDecoder.newBuilder().pod("pod-a").model("fallback").registry(registry).build();
  private final List<BlockEvent> out = new ArrayList<>();

  /** Positional BlockStored as vLLM wrote it with array_like=True (every field through group). */
  private static List<Object> storedArray(
      List<Object> hashes, Object parent, List<Object> tokens, String medium, String lora) {
    return list("BlockStored", hashes, parent, tokens, 2, null, medium, lora, null, null);
  }

  private static List<Object> tokens(int n, int from) {
    List<Object> t = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      t.add(from + i);
    }
    return t;
  }

  /** The 8 big-endian bytes of an unsigned decimal, computed independently of the decoder. */
  private static byte[] be8(String decimal) {
    byte[] raw = u64(decimal).toByteArray(); // 9 bytes when the top bit is set, fewer when small
    byte[] out = new byte[8];
    int n = Math.min(8, raw.length);
    System.arraycopy(raw, raw.length - n, out, 8 - n, n);
    return out;
  }

  private double count(String name, String type) {
    var c = registry.find(name).tag("pod", "pod-a");
    if (type != null) {
      c = c.tag("type", type);
    }
    return c.counter().count();
  }

  @Test
  void decode_arrayEncodedBlockStored_deliversKeysTokensTierAndModel() {
    byte[] payload =
        pack(
            list(
                1717171717.25,
                list(
                    storedArray(
                        list(u64("17705339885301241772"), 7L), null, tokens(4, 100), "GPU", null)),
                0));

    assertEquals(1, decoder.decode(TOPIC, payload, out::add));

    BlockEvent e = out.get(0);
    assertEquals("pod-a", e.getPod());
    assertEquals(0, e.getSequence());
    assertEquals(1717171717250L, e.getTimestampMs());
    assertEquals("Qwen/Qwen3-0.6B", e.getNamespace().getModelId());
    assertEquals("", e.getNamespace().getLoraName());
    assertEquals("", e.getNamespace().getCacheSalt());
    assertFalse(e.getNamespace().hasLayout());
    assertEquals(BlockEvent.EventCase.STORED, e.getEventCase());
    assertEquals(2, e.getStored().getKeysCount());
    assertArrayEquals(
        be8("17705339885301241772"), e.getStored().getKeys(0).getDigest().toByteArray());
    assertArrayEquals(
        new byte[] {0, 0, 0, 0, 0, 0, 0, 7}, e.getStored().getKeys(1).getDigest().toByteArray());
    assertFalse(e.getStored().hasParentKey());
    assertEquals(List.of(100L, 101L, 102L, 103L), e.getStored().getTokenIdsList());
    assertEquals(2, e.getStored().getBlockTokens());
    assertEquals(Tier.TIER_GPU, e.getStored().getTier());
    assertEquals(2.0, count("kvhoard.vllm.blocks", null));
    assertEquals(1.0, count("kvhoard.vllm.events", "stored"));
  }

  @Test
  void decode_mapEncodedBatch_deliversTheSameEventAsTheArrayEncoding() {
    byte[] array =
        pack(list(5.0, list(storedArray(list(11L, 12L), 10L, tokens(4, 1), null, "Alice")), null));
    byte[] asMap =
        pack(
            map(
                "ts",
                5.0,
                "events",
                list(
                    map(
                        "type",
                        "BlockStored",
                        "block_hashes",
                        list(11L, 12L),
                        "parent_block_hash",
                        10L,
                        "token_ids",
                        tokens(4, 1),
                        "block_size",
                        2,
                        "lora_id",
                        null,
                        "medium",
                        null,
                        "lora_name",
                        "Alice")),
                "data_parallel_rank",
                0));
    VllmEventDecoder other = VllmEventDecoder.newBuilder().pod("pod-a").build();
    List<BlockEvent> fromMap = new ArrayList<>();

    assertEquals(1, decoder.decode(TOPIC, array, out::add));
    assertEquals(1, other.decode(TOPIC, asMap, fromMap::add));

    assertEquals(out, fromMap);
    assertEquals("Alice", out.get(0).getNamespace().getLoraName());
    assertArrayEquals(
        new byte[] {0, 0, 0, 0, 0, 0, 0, 10},
        out.get(0).getStored().getParentKey().getDigest().toByteArray());
  }

  @Test
  void decode_appendedFieldsAndUnknownKeys_areSkipped() {
    List<Object> stored = storedArray(list(1L), null, tokens(2, 0), "CPU", null);
    stored.add(list("spec", 3)); // kv_cache_spec_kind and anything later vLLM appends
    stored.add(map("future", 1));
    byte[] array = pack(list(1.0, list(stored), 0, "appended-to-batch", list(1, 2)));
    byte[] asMap =
        pack(
            map(
                "future_batch_field",
                map("x", list(1, 2)),
                "events",
                list(
                    map(
                        "block_hashes",
                        list(2L),
                        "type",
                        "BlockRemoved",
                        "medium",
                        "CPU",
                        "new_field",
                        list(map("a", null)))),
                "ts",
                2.5));

    assertEquals(1, decoder.decode(TOPIC, array, out::add));
    assertEquals(1, decoder.decode(TOPIC, asMap, out::add));

    assertEquals(Tier.TIER_HOST, out.get(0).getStored().getTier());
    assertEquals(BlockEvent.EventCase.REMOVED, out.get(1).getEventCase());
    assertEquals(Tier.TIER_HOST, out.get(1).getRemoved().getTier());
    assertEquals(2500L, out.get(1).getTimestampMs());
    assertEquals(0.0, count("kvhoard.vllm.decode.errors", null));
  }

  @Test
  void decode_olderVllmWithoutOptionalFields_defaultsToGpuAndBaseModel() {
    // vLLM before medium/lora_name: BlockStored(block_hashes, parent, token_ids, block_size,
    // lora_id), BlockRemoved(block_hashes), and a batch without data_parallel_rank.
    byte[] payload =
        pack(
            list(
                3.0,
                list(
                    list("BlockStored", list(5L), null, tokens(2, 9), 2, null),
                    list("BlockRemoved", list(5L)),
                    list("AllBlocksCleared"))));

    assertEquals(3, decoder.decode("".getBytes(StandardCharsets.UTF_8), payload, out::add));

    assertEquals(Tier.TIER_GPU, out.get(0).getStored().getTier());
    assertEquals("fallback", out.get(0).getNamespace().getModelId());
    assertEquals(Tier.TIER_GPU, out.get(1).getRemoved().getTier());
    assertEquals(BlockEvent.EventCase.CLEARED, out.get(2).getEventCase());
    assertFalse(out.get(2).hasNamespace(), "AllBlocksCleared clears the whole pod");
    assertEquals(List.of(0L, 1L, 2L), out.stream().map(BlockEvent::getSequence).toList());
  }

  @Test
  void tier_mediumNames_mapToGpuHostAndDisk() {
    assertEquals(Tier.TIER_GPU, VllmEventDecoder.tier(null));
    assertEquals(Tier.TIER_GPU, VllmEventDecoder.tier("GPU"));
    assertEquals(Tier.TIER_HOST, VllmEventDecoder.tier("CPU"));
    assertEquals(Tier.TIER_HOST, VllmEventDecoder.tier("cpu"));
    assertEquals(Tier.TIER_HOST, VllmEventDecoder.tier("CPU_TIER"));
    assertEquals(Tier.TIER_DISK, VllmEventDecoder.tier("DISK"));
    assertEquals(Tier.TIER_DISK, VllmEventDecoder.tier("LocalDisk"));
    assertEquals(Tier.TIER_DISK, VllmEventDecoder.tier("s3"));
  }

  @Test
  void decode_cacheSaltInFirstBlockExtraKeys_isTheNamespaceSaltOfTheWholeChain() {
    List<Object> first =
        list(
            "BlockStored",
            list(1L, 2L),
            null,
            tokens(4, 0),
            2,
            7,
            null,
            "Alice",
            list(list("Alice", list("mm-hash", 0), "tenant-7"), list("Alice")));
    List<Object> next =
        list("BlockStored", list(3L), 2L, tokens(2, 4), 2, 7, null, "Alice", list(list("Alice")));
    List<Object> unsalted =
        list("BlockStored", list(9L), null, tokens(2, 0), 2, null, null, null, list((Object) null));

    decoder.decode(TOPIC, pack(list(1.0, list(first, next, unsalted))), out::add);
    decoder.decode(TOPIC, pack(list(1.0, list(list("BlockRemoved", list(2L), null)))), out::add);
    decoder.decode(TOPIC, pack(list(1.0, list(next))), out::add);

    assertEquals("tenant-7", out.get(0).getNamespace().getCacheSalt());
    assertEquals("Alice", out.get(0).getNamespace().getLoraName());
    assertEquals("tenant-7", out.get(1).getNamespace().getCacheSalt(), "inherited from block 2");
    assertEquals("", out.get(2).getNamespace().getCacheSalt());
    assertEquals(BlockEvent.EventCase.REMOVED, out.get(3).getEventCase());
    assertEquals("", out.get(4).getNamespace().getCacheSalt(), "its parent was removed");
  }

  @Test
  void decode_loraNameWithoutSalt_isNotMistakenForASalt() {
    List<Object> first =
        list(
            "BlockStored", list(1L), null, tokens(2, 0), 2, 1, "GPU", "Alice", list(list("Alice")));

    decoder.decode(TOPIC, pack(list(1.0, list(first))), out::add);

    assertEquals("Alice", out.get(0).getNamespace().getLoraName());
    assertEquals("", out.get(0).getNamespace().getCacheSalt());
  }

  @Test
  void decode_bytesBlockHashes_keepTheirBytes() {
    byte[] digest = new byte[32];
    for (int i = 0; i < 32; i++) {
      digest[i] = (byte) (i * 7 + 1);
    }
    byte[] payload = pack(list(1.0, list(list("BlockRemoved", list((Object) digest), "GPU"))));

    assertEquals(1, decoder.decode(TOPIC, payload, out::add));
    assertArrayEquals(digest, out.get(0).getRemoved().getKeys(0).getDigest().toByteArray());

    byte[] tooLong =
        pack(list(1.0, list(list("BlockRemoved", list((Object) new byte[33]), "GPU"))));
    assertEquals(-1, decoder.decode(TOPIC, tooLong, out::add));
    assertEquals(1, out.size());
  }

  @Test
  void decode_garbage_isCountedAndDroppedWithoutDeliveringAnything() {
    Random random = new Random(42);
    List<byte[]> garbage = new ArrayList<>();
    garbage.add(new byte[0]);
    garbage.add(pack(17));
    garbage.add(pack("EventBatch"));
    garbage.add(pack(list(1.0)));
    garbage.add(pack(map("ts", 1.0)));
    garbage.add(pack(list(1.0, "not-a-list")));
    garbage.add(pack(list(1.0, list(list("BlockStored", "not-hashes", null, list(), 16)))));
    garbage.add(pack(list(1.0, list(list("BlockStored", list(1L), null, list(), 0)))));
    garbage.add(pack(list(1.0, list(list("BlockStored", list(), null, list(), 16)))));
    garbage.add(pack(list(1.0, list(list("BlockStored", list(1L), null, list(-1), 16)))));
    garbage.add(pack(list(1.0, list(map("block_hashes", list(1L))))));
    garbage.add(pack(list(1.0, list(list()))));
    garbage.add(pack(list(1.0, list(list("BlockRemoved", list(1.5))))));
    byte[] valid = pack(list(1.0, list(storedArray(list(1L), null, tokens(2, 0), null, null))));
    garbage.add(java.util.Arrays.copyOf(valid, valid.length - 3)); // truncated
    byte[] trailing = java.util.Arrays.copyOf(valid, valid.length + 1);
    garbage.add(trailing);
    for (int i = 0; i < 200; i++) {
      byte[] b = new byte[1 + random.nextInt(64)];
      random.nextBytes(b);
      b[0] = (byte) 0x92; // an array of two: looks like a batch, then noise
      garbage.add(b);
    }
    // A batch whose first event is good and second bad is dropped whole.
    garbage.add(
        pack(
            list(
                1.0,
                list(
                    storedArray(list(1L), null, tokens(2, 0), null, null),
                    list("BlockStored", 5)))));

    int dropped = 0;
    for (byte[] g : garbage) {
      int n = decoder.decode(TOPIC, g, out::add);
      if (n == -1) {
        dropped++;
      } else {
        assertEquals(0, n, "random noise that parses must deliver nothing");
      }
    }

    assertTrue(out.isEmpty(), "nothing delivered from garbage: " + out);
    assertTrue(dropped >= 16, "every hand-made bad payload is dropped: " + dropped);
    assertEquals(dropped, count("kvhoard.vllm.decode.errors", null));
    assertEquals(1, decoder.decode(TOPIC, valid, out::add));
    assertEquals(0, out.get(0).getSequence(), "dropped batches use no sequence numbers");
  }

  @Test
  void decode_unknownEventType_isSkippedAndTheRestDelivered() {
    byte[] payload =
        pack(
            list(
                1.0,
                list(
                    list("BlockPromoted", list(1L), "CPU"),
                    map("type", "SomethingNew", "x", 1),
                    list("BlockRemoved", list(1L), "GPU"))));

    assertEquals(1, decoder.decode(TOPIC, payload, out::add));

    assertEquals(BlockEvent.EventCase.REMOVED, out.get(0).getEventCase());
    assertEquals(2.0, count("kvhoard.vllm.events.unknown", null));
  }

  @Test
  void decode_otherKvCacheGroup_isSkipped() {
    List<Object> group1 =
        list("BlockStored", list(1L), null, tokens(2, 0), 2, null, null, null, null, 1);
    List<Object> group0 =
        list("BlockStored", list(2L), null, tokens(2, 0), 2, null, null, null, null, 0);

    assertEquals(
        1,
        decoder.decode(
            TOPIC,
            pack(list(1.0, list(group1, group0, list("BlockRemoved", list(1L), null, 1)))),
            out::add));

    assertArrayEquals(
        new byte[] {0, 0, 0, 0, 0, 0, 0, 2},
        out.get(0).getStored().getKeys(0).getDigest().toByteArray());
    assertEquals(2.0, count("kvhoard.vllm.events.other.group", null));
  }

  @Test
  void cleared_isNumberedAfterTheDecodedEventsAndHasNoNamespace() {
    decoder.decode(
        TOPIC,
        pack(list(1.0, list(list("BlockRemoved", list(1L)), list("BlockRemoved", list(2L))))),
        out::add);

    BlockEvent c = decoder.cleared(99);
    decoder.decode(TOPIC, pack(list(1.0, list(list("BlockRemoved", list(3L))))), out::add);

    assertEquals(2, c.getSequence());
    assertEquals(99, c.getTimestampMs());
    assertFalse(c.hasNamespace());
    assertEquals(3, out.get(2).getSequence());
    assertEquals(4, decoder.nextSequence());
  }
}
