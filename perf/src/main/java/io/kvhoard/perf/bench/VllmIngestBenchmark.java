package io.kvhoard.perf.bench;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.index.BlockEventSink;
import io.kvhoard.server.index.CountingEventSink;
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

/**
 * vLLM KV-event ingestion: {@link VllmEventDecoder} turning msgpack {@code EventBatch}es of {@value
 * #EVENTS_PER_BATCH} {@code BlockStored} events (each {@code blocksPerEvent} blocks of 16 tokens,
 * uint64 block hashes, as vLLM sends them) into {@link BlockEvent}s delivered to a sink: a no-op
 * sink ({@code decodeToNoopSink}) and a counting sink ({@code decodeToCountingSink}; the prefix
 * index replaces it after the merge). The peer, measured in the same run, is the decode limit:
 * msgpack-core walking the same bytes and reading every integer, building no object ({@code
 * baselineRawUnpack}).
 *
 * <p>One op is one batch: blocks per second = ops/s × {@value #EVENTS_PER_BATCH} × blocksPerEvent.
 * Goal (issue 6): at least 1M blocks/s applied on 2 cores; one source thread decodes all of a
 * server's pods, so one thread is measured.
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro VllmIngest}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class VllmIngestBenchmark {
  static final int EVENTS_PER_BATCH = 8;
  private static final int BLOCK_TOKENS = 16;
  private static final int PAYLOADS = 64;
  private static final byte[] TOPIC = "kv@vllm-0@Qwen/Qwen3-0.6B".getBytes(StandardCharsets.UTF_8);

  @Param({"1", "25"})
  public int blocksPerEvent;

  @Param({"array", "map"})
  public String encoding;

  private final byte[][] payloads = new byte[PAYLOADS][];
  private final ArrayBufferInput input = new ArrayBufferInput(new byte[0]);
  private final MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(input);
  private final byte[] wide = new byte[9];
  private final BlockEventSink noop = e -> {};
  private final CountingEventSink counting = new CountingEventSink();
  private VllmEventDecoder decoder;
  private int next;

  @Setup(Level.Trial)
  public void setup() {
    SplittableRandom r = new SplittableRandom(6);
    for (int i = 0; i < PAYLOADS; i++) {
      payloads[i] = batch(r, encoding.equals("map"));
    }
    decoder = VllmEventDecoder.newBuilder().pod("vllm-0").build();
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
      long parent = r.nextLong();
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
        p.packBigInteger(new java.math.BigInteger(Long.toUnsignedString(parent)));
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
    return payloads[next++ & (PAYLOADS - 1)];
  }

  /** Ours: decode into BlockEvents, delivered to a sink that drops them. */
  @Benchmark
  public int decodeToNoopSink() {
    return decoder.decode(TOPIC, nextPayload(), noop);
  }

  /** Ours: decode into BlockEvents, delivered to a sink that counts events and blocks. */
  @Benchmark
  public int decodeToCountingSink() {
    return decoder.decode(TOPIC, nextPayload(), counting);
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
