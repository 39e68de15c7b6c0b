package io.kvhoard.perf.bench;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.index.BlockEventSink;
import io.kvhoard.server.index.PrefixIndex;
import io.kvhoard.server.index.vllm.VllmEventDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferInput;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * vLLM KV-event ingestion: {@link VllmEventDecoder} turning msgpack {@code EventBatch}es of {@value
 * #EVENTS_PER_BATCH} {@code BlockStored} events (each {@code blocksPerEvent} blocks of 16 tokens,
 * uint64 block hashes, chained by parent hash from the batch's first event, as vLLM sends them)
 * into {@link BlockEvent}s delivered to a sink ({@code decode}, {@link Sink}): the real {@link
 * PrefixIndex} (decode + apply, issue 6's figure), a counting sink or a no-op one (decode alone).
 * The payloads are sent as {@value #PODS} pods in turn, 4 pods per model holding the same blocks.
 * The peer, measured in the same run, is the decode limit: msgpack-core walking the same bytes and
 * reading every integer, building no object ({@code baselineRawUnpack}).
 *
 * <p>One op is one batch: blocks per second = ops/s × {@value #EVENTS_PER_BATCH} × blocksPerEvent.
 * Goal (issue 6): at least 1M blocks/s decoded and applied on 2 cores; one source thread decodes
 * all of a server's pods, so one thread is measured.
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro VllmIngest}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class VllmIngestBenchmark {
  static final int EVENTS_PER_BATCH = 8;
  private static final int BLOCK_TOKENS = 16;

  /** Blocks in the distinct payloads: the index meets each block once per pod per pass. */
  private static final int BLOCKS_IN_PAYLOADS = 1 << 17;

  /** Pods the payloads are sent as in turn, one pass each, so the index keeps inserting. */
  static final int PODS = 64;

  /**
   * Models (topics {@code kv@<pod>@<model>}) the pods serve, so {@value #PODS} / {@value #MODELS}
   * pods hold the same blocks: with every pod holding the same blocks, a block table probe run
   * becomes clumps of one key's many entries and inserting costs the run's length (measured: about
   * 0.1M blocks/s with 8 pods' identical entries per block).
   */
  static final int MODELS = 16;

  /** The index's capacity in (block, pod) entries: full after 8 passes, then evicting. */
  static final int INDEX_CAPACITY = 1 << 20;

  private static final byte[] TOPIC = "kv@vllm-0@Qwen/Qwen3-0.6B".getBytes(StandardCharsets.UTF_8);

  @Param({"1", "25"})
  public int blocksPerEvent;

  @Param({"array", "map"})
  public String encoding;

  private byte[][] payloads;
  private final ArrayBufferInput input = new ArrayBufferInput(new byte[0]);
  private final MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(input);
  private final byte[] wide = new byte[9];
  private final BlockEventSink noop = e -> {};
  private VllmEventDecoder decoder;
  private final VllmEventDecoder[] podDecoders = new VllmEventDecoder[PODS];
  private final byte[][] podTopics = new byte[PODS][];
  private int next;

  /**
   * Where decoded events go: {@code index}, the real {@link PrefixIndex} (decode + apply: canonical
   * keys hashed from the tokens, engine keys recorded, block table entries; {@value
   * #INDEX_CAPACITY} entries, full after a few seconds and evicting from then on), {@code
   * counting}, {@link CountingEventSink}, or {@code noop}. The payloads are sent as {@value #PODS}
   * pods in turn, a pass each, so the index keeps meeting new (block, pod) entries.
   */
  @State(Scope.Thread)
  public static class Sink {
    @Param({"index", "counting", "noop"})
    public String sink;

    BlockEventSink target;
    PrefixIndex index;

    @Setup(Level.Trial)
    public void setup() {
      switch (sink) {
        case "index" -> {
          index = PrefixIndex.newBuilder().capacity(INDEX_CAPACITY).build();
          target = index;
        }
        case "counting" -> target = new CountingEventSink();
        case "noop" -> target = e -> {};
        default -> throw new IllegalArgumentException("sink is index, counting or noop: " + sink);
      }
    }

    @TearDown(Level.Trial)
    public void check() {
      if (index != null) {
        var s = index.stats();
        // dropped: a parent's engine key evicted before its child arrived (a full index)
        System.out.printf(
            "%n# index after the trial: %,d events applied, %,d dropped, %,d malformed, %,d entries,"
                + " %,d evicted%n",
            s.eventsApplied(), s.eventsDropped(), s.eventsMalformed(), s.entries(), s.evictions());
        if (s.eventsMalformed() > 0 || s.eventsApplied() == 0) {
          throw new IllegalStateException("the index did not apply the events: " + s);
        }
        index.close();
      }
    }
  }

  @Setup(Level.Trial)
  public void setup() {
    SplittableRandom r = new SplittableRandom(6);
    payloads = new byte[BLOCKS_IN_PAYLOADS / EVENTS_PER_BATCH / blocksPerEvent][];
    for (int i = 0; i < payloads.length; i++) {
      payloads[i] = batch(r, encoding.equals("map"));
    }
    decoder = VllmEventDecoder.newBuilder().pod("vllm-0").build();
    for (int p = 0; p < PODS; p++) {
      podDecoders[p] = VllmEventDecoder.newBuilder().pod("vllm-" + p).build();
      podTopics[p] = ("kv@vllm-" + p + "@model-" + p % MODELS).getBytes(StandardCharsets.UTF_8);
    }
    int n = decoder.decode(TOPIC, payloads[0], noop);
    if (n != EVENTS_PER_BATCH) {
      throw new IllegalStateException("the decoder read " + n + " events from a test batch");
    }
  }

  /** A batch as vLLM's msgspec encoder writes it, in one of its two encodings. */
  private byte[] batch(SplittableRandom r, boolean map) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      if (map) {
        p.packMapHeader(3).packString("ts").packDouble(1.7e9).packString("events");
      } else {
        p.packArrayHeader(3).packDouble(1.7e9);
      }
      p.packArrayHeader(EVENTS_PER_BATCH);
      long parent = 0; // the batch starts a chain: its first event has no parent
      for (int e = 0; e < EVENTS_PER_BATCH; e++) {
        if (map) {
          p.packMapHeader(8).packString("type").packString("BlockStored");
          p.packString("block_hashes");
        } else {
          p.packArrayHeader(8).packString("BlockStored");
        }
        p.packArrayHeader(blocksPerEvent);
        long last = 0;
        for (int b = 0; b < blocksPerEvent; b++) {
          last = r.nextLong();
          p.packBigInteger(new java.math.BigInteger(Long.toUnsignedString(last)));
        }
        if (map) {
          p.packString("parent_block_hash");
        }
        if (e == 0) {
          p.packNil();
        } else {
          p.packBigInteger(new java.math.BigInteger(Long.toUnsignedString(parent)));
        }
        parent = last;
        if (map) {
          p.packString("token_ids");
        }
        p.packArrayHeader(blocksPerEvent * BLOCK_TOKENS);
        for (int t = 0; t < blocksPerEvent * BLOCK_TOKENS; t++) {
          p.packInt(r.nextInt(151_936)); // Qwen3's vocabulary
        }
        if (map) {
          p.packString("block_size");
        }
        p.packInt(BLOCK_TOKENS);
        if (map) {
          p.packString("lora_id");
        }
        p.packNil();
        if (map) {
          p.packString("medium");
        }
        p.packString("GPU");
        if (map) {
          p.packString("lora_name");
        }
        p.packNil();
      }
      if (map) {
        p.packString("data_parallel_rank");
      }
      p.packInt(0);
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] nextPayload() {
    byte[] b = payloads[next % payloads.length];
    next++;
    return b;
  }

  /** Ours: decode into BlockEvents delivered to the sink ({@code index}: decode + apply). */
  @Benchmark
  public int decode(Sink sink) {
    int pod = (next / payloads.length) % PODS;
    return podDecoders[pod].decode(podTopics[pod], nextPayload(), sink.target);
  }

  /** The decode limit: msgpack-core reading every value of the same bytes, building nothing. */
  @Benchmark
  public long baselineRawUnpack() throws IOException {
    input.reset(nextPayload());
    unpacker.reset(input);
    return walk();
  }

  private long walk() throws IOException {
    MessageFormat f = unpacker.getNextFormat();
    switch (f.getValueType()) {
      case ARRAY -> {
        long s = 0;
        for (int i = unpacker.unpackArrayHeader(); i > 0; i--) {
          s += walk();
        }
        return s;
      }
      case MAP -> {
        long s = 0;
        for (int i = 2 * unpacker.unpackMapHeader(); i > 0; i--) {
          s += walk();
        }
        return s;
      }
      case INTEGER -> {
        if (f == MessageFormat.UINT64) {
          unpacker.readPayload(wide, 0, 9);
          return wide[8];
        }
        return unpacker.unpackLong();
      }
      default -> {
        unpacker.skipValue();
        return 1;
      }
    }
  }
}
