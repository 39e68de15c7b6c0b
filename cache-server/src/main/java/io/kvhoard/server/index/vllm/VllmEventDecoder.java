package io.kvhoard.server.index.vllm;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockRemoved;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Cleared;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.server.index.BlockEventSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferInput;
import org.msgpack.value.ValueType;

/**
 * Decodes one vLLM pod's KV-event payloads (msgpack {@code EventBatch}es) into {@link BlockEvent}s
 * and numbers them for the pod. One decoder per pod; {@link VllmEventSource} owns one per endpoint.
 *
 * <p>Design. The wire format is vLLM's {@code vllm/distributed/kv_events.py} (msgspec structs):
 *
 * <ul>
 *   <li>{@code EventBatch(ts: float, events: list, data_parallel_rank: int | None = None)}, encoded
 *       as an array {@code [ts, events, rank?]} by vLLM until 2026 ({@code array_like=True}) and as
 *       a map {@code {"ts", "events", "data_parallel_rank"}} since; both are read, and unknown
 *       appended elements or keys are skipped.
 *   <li>Events are a tagged union ({@code tag=True}): positional {@code ["BlockStored", f1, f2, …]}
 *       in the array encoding, {@code {"type": "BlockStored", "block_hashes": …}} in the map one.
 *       Field order (vLLM main, 2026): {@code BlockStored(block_hashes, parent_block_hash,
 *       token_ids, block_size, lora_id, medium, lora_name, extra_keys=None, group_idx=None,
 *       kv_cache_spec_kind=None, kv_cache_spec_sliding_window=None)}, {@code
 *       BlockRemoved(block_hashes, medium, group_idx=None)}, {@code AllBlocksCleared()}. msgspec's
 *       {@code omit_defaults} drops trailing defaults in the array form and default keys in the map
 *       form, so every field from {@code lora_id} on may be missing (older vLLM: up to {@code
 *       medium}, as llm-d's decoder {@code pkg/kvcache/kvevents/events.go} still reads them).
 *   <li>Block hashes ({@code ExternalBlockHash = bytes | int}): by default an unsigned 64-bit int
 *       (the last 8 bytes of the SHA-256, {@code VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1}), which
 *       becomes an 8-byte big-endian {@link BlockKey} digest; a msgpack {@code bin} hash (the flag
 *       off) travels as its own bytes (1 to 32). Negative ints (old {@code builtin hash}) keep
 *       their two's-complement bytes. A uint64 is copied from the wire without a {@code
 *       BigInteger}.
 *   <li>Tier from {@code medium}: null or {@code GPU} is the GPU; anything naming the CPU or host
 *       RAM ({@code CPU}, {@code CPU_TIER}, {@code cpu}) the host tier; any other medium (disk,
 *       remote storage) the disk tier.
 *   <li>Namespace: the model from the topic {@code kv@<pod>@<model>} (llm-d's convention), else the
 *       endpoint's configured model; the LoRA from {@code lora_name}; the cache salt from {@code
 *       extra_keys[0]} of a chain's first block. vLLM builds a block's extra keys as {@code
 *       lora_name + multimodal (id, offset) pairs + cache_salt (first block only) +
 *       prompt-embedding hashes} ({@code generate_block_hash_extra_keys} in {@code
 *       vllm/v1/core/kv_cache_utils.py}), so the salt is the first string after the LoRA name.
 *       Later blocks of a salted chain inherit the salt through their parent: the decoder remembers
 *       the engine keys of salted chains (bounded) to put them in the right namespace.
 *   <li>Only KV-cache group 0 is followed: a hybrid model (sliding-window plus full attention)
 *       stores and evicts the same hashes once per group, and a sliding window's evictions must not
 *       remove blocks the full-attention group still holds. Events of other groups are counted and
 *       skipped.
 * </ul>
 *
 * <p>A malformed batch (not msgpack, not a batch, a field of the wrong type) is counted as a decode
 * error and dropped whole: none of its events is delivered. An event of an unknown type is counted
 * and skipped; the rest of its batch is delivered.
 *
 * <p>Not thread-safe: one thread decodes for a pod (the source's loop, or a benchmark).
 */
public final class VllmEventDecoder {
  /** Salted chain keys remembered per pod, at most. */
  static final int MAX_SALTED_KEYS = 1 << 20;

  private final String pod;
  private final String fallbackModel;
  private final Counter batches;
  private final Counter storedEvents;
  private final Counter removedEvents;
  private final Counter clearedEvents;
  private final Counter blocks;
  private final Counter decodeErrors;
  private final Counter unknownEvents;
  private final Counter otherGroups;

  private final ArrayBufferInput input = new ArrayBufferInput(new byte[0]);
  private final MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(input);
  private final byte[] wide = new byte[9];
  private final Fields fields = new Fields();
  private final List<BlockEvent.Builder> pending = new ArrayList<>();
  private final Map<ByteString, String> saltByKey = new HashMap<>();

  private byte[] lastTopic = new byte[0];
  private String topicModel = "";
  private Namespace lastNamespace = Namespace.getDefaultInstance();
  private long nextSequence;

  private VllmEventDecoder(Builder b) {
    this.pod = b.pod;
    this.fallbackModel = b.model;
    this.topicModel = b.model;
    MeterRegistry r = b.registry;
    this.batches = counter(r, "kvhoard.vllm.batches", "Event batches received", "");
    this.storedEvents = counter(r, "kvhoard.vllm.events", "Events delivered", "stored");
    this.removedEvents = counter(r, "kvhoard.vllm.events", "Events delivered", "removed");
    this.clearedEvents = counter(r, "kvhoard.vllm.events", "Events delivered", "cleared");
    this.blocks = counter(r, "kvhoard.vllm.blocks", "Blocks in delivered events", "");
    this.decodeErrors =
        counter(r, "kvhoard.vllm.decode.errors", "Malformed batches dropped whole", "");
    this.unknownEvents =
        counter(r, "kvhoard.vllm.events.unknown", "Events of unknown types skipped", "");
    this.otherGroups =
        counter(r, "kvhoard.vllm.events.other.group", "Events of KV groups other than 0", "");
  }

  private Counter counter(MeterRegistry r, String name, String description, String type) {
    Counter.Builder c = Counter.builder(name).description(description).tag("pod", pod);
    if (!type.isEmpty()) {
      c.tag("type", type);
    }
    return c.register(r);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The pod these events are attributed to. */
  public String pod() {
    return pod;
  }

  /** The sequence number the next delivered event gets (the first is 0). */
  public long nextSequence() {
    return nextSequence;
  }

  /**
   * Decodes one payload and delivers its events to {@code sink}, in order. Never throws for a bad
   * payload: it is counted and dropped.
   *
   * @param topic the message's topic frame ({@code kv@<pod>@<model>}; may be empty)
   * @param payload the msgpack {@code EventBatch}
   * @return the events delivered, or -1 if the payload was malformed and dropped
   */
  public int decode(byte[] topic, byte[] payload, BlockEventSink sink) {
    batches.increment();
    pending.clear();
    long tsMillis;
    try {
      modelFor(topic);
      input.reset(payload);
      unpacker.reset(input);
      tsMillis = batch();
    } catch (IOException | RuntimeException | Malformed e) {
      decodeErrors.increment();
      pending.clear();
      return -1;
    }
    int n = pending.size();
    for (int i = 0; i < n; i++) {
      BlockEvent.Builder e = pending.get(i);
      sink.accept(e.setPod(pod).setSequence(nextSequence++).setTimestampMs(tsMillis).build());
    }
    pending.clear();
    return n;
  }

  /**
   * A {@code Cleared} event for the whole pod (namespace unset), numbered as the pod's next event:
   * what the source delivers after events it could not recover.
   */
  public BlockEvent cleared(long timestampMs) {
    saltByKey.clear();
    clearedEvents.increment();
    return BlockEvent.newBuilder()
        .setPod(pod)
        .setSequence(nextSequence++)
        .setTimestampMs(timestampMs)
        .setCleared(Cleared.getDefaultInstance())
        .build();
  }

  private void modelFor(byte[] topic) {
    if (Arrays.equals(topic, lastTopic)) {
      return;
    }
    lastTopic = topic.clone();
    String t = new String(topic, StandardCharsets.UTF_8);
    int first = t.indexOf('@');
    int second = first < 0 ? -1 : t.indexOf('@', first + 1);
    topicModel = second > 0 && second + 1 < t.length() ? t.substring(second + 1) : fallbackModel;
  }

  /** Reads an EventBatch; returns its timestamp in epoch milliseconds. */
  private long batch() throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    double ts = 0;
    boolean sawEvents = false;
    switch (f.getValueType()) {
      case ARRAY -> {
        int n = unpacker.unpackArrayHeader();
        if (n < 2) {
          throw new Malformed("an EventBatch array needs ts and events, got " + n + " elements");
        }
        ts = number();
        events();
        unpacker.skipValue(n - 2); // data_parallel_rank and anything appended
        sawEvents = true;
      }
      case MAP -> {
        int n = unpacker.unpackMapHeader();
        for (int i = 0; i < n; i++) {
          String key = string();
          switch (key) {
            case "ts" -> ts = number();
            case "events" -> {
              events();
              sawEvents = true;
            }
            default -> unpacker.skipValue();
          }
        }
      }
      default -> throw new Malformed("an EventBatch is an array or a map, not " + f);
    }
    if (!sawEvents) {
      throw new Malformed("an EventBatch without events");
    }
    if (unpacker.hasNext()) {
      throw new Malformed("trailing bytes after the EventBatch");
    }
    return (long) (ts * 1000.0);
  }

  private void events() throws IOException, Malformed {
    if (unpacker.getNextFormat().getValueType() != ValueType.ARRAY) {
      throw new Malformed("EventBatch.events is not an array");
    }
    int n = unpacker.unpackArrayHeader();
    for (int i = 0; i < n; i++) {
      event();
    }
  }

  private void event() throws IOException, Malformed {
    Fields e = fields;
    e.reset();
    MessageFormat f = unpacker.getNextFormat();
    switch (f.getValueType()) {
      case ARRAY -> {
        int n = unpacker.unpackArrayHeader();
        if (n < 1) {
          throw new Malformed("an event array without its tag");
        }
        e.type = string();
        String[] order = positions(e.type);
        for (int i = 1; i < n; i++) {
          if (order != null && i - 1 < order.length) {
            field(order[i - 1]);
          } else {
            unpacker.skipValue();
          }
        }
      }
      case MAP -> {
        int n = unpacker.unpackMapHeader();
        for (int i = 0; i < n; i++) {
          String key = string();
          if (key.equals("type")) {
            e.type = string();
          } else {
            field(key);
          }
        }
      }
      default -> throw new Malformed("an event is an array or a map, not " + f);
    }
    if (e.type == null) {
      throw new Malformed("an event map without a \"type\"");
    }
    switch (e.type) {
      case "BlockStored" -> stored(e);
      case "BlockRemoved" -> removed(e);
      case "AllBlocksCleared" -> allCleared();
      default -> unknownEvents.increment();
    }
  }

  private static final String[] STORED_FIELDS = {
    "block_hashes",
    "parent_block_hash",
    "token_ids",
    "block_size",
    "lora_id",
    "medium",
    "lora_name",
    "extra_keys",
    "group_idx"
  };
  private static final String[] REMOVED_FIELDS = {"block_hashes", "medium", "group_idx"};
  private static final String[] NO_FIELDS = {};

  private static String[] positions(String type) {
    return switch (type) {
      case "BlockStored" -> STORED_FIELDS;
      case "BlockRemoved" -> REMOVED_FIELDS;
      case "AllBlocksCleared" -> NO_FIELDS;
      default -> null;
    };
  }

  /** Reads one named field's value into {@link #fields}; unknown names are skipped. */
  private void field(String name) throws IOException, Malformed {
    Fields e = fields;
    switch (name) {
      case "block_hashes" -> {
        int n = arrayHeader("block_hashes");
        for (int i = 0; i < n; i++) {
          e.keys.add(key());
        }
      }
      case "parent_block_hash" -> e.parent = unpacker.tryUnpackNil() ? null : key();
      case "token_ids" -> {
        int n = arrayHeader("token_ids");
        e.tokens(n);
        for (int i = 0; i < n; i++) {
          long t = integer();
          if (t < 0) {
            throw new Malformed("a negative token id");
          }
          e.tokens[e.tokenCount++] = t;
        }
      }
      case "block_size" -> {
        long v = integer();
        if (v < 1 || v > Integer.MAX_VALUE) {
          throw new Malformed("block_size " + v);
        }
        e.blockSize = (int) v;
      }
      case "medium" -> e.medium = optionalString();
      case "lora_name" -> e.loraName = optionalString();
      case "extra_keys" -> extraKeys();
      case "group_idx" -> e.groupIdx = unpacker.tryUnpackNil() ? 0 : integer();
      default -> unpacker.skipValue();
    }
  }

  /** Keeps the top-level strings of {@code extra_keys[0]}: where a first block's salt is. */
  private void extraKeys() throws IOException, Malformed {
    if (unpacker.tryUnpackNil()) {
      return;
    }
    int n = arrayHeader("extra_keys");
    if (n == 0) {
      return;
    }
    if (!unpacker.tryUnpackNil()) {
      int m = arrayHeader("extra_keys[0]");
      for (int j = 0; j < m; j++) {
        if (unpacker.getNextFormat().getValueType() == ValueType.STRING) {
          fields.firstExtraStrings.add(unpacker.unpackString());
        } else {
          unpacker.skipValue();
        }
      }
    }
    unpacker.skipValue(n - 1);
  }

  private void stored(Fields e) throws Malformed {
    if (e.groupIdx != 0) {
      otherGroups.increment();
      return;
    }
    if (e.keys.isEmpty()) {
      throw new Malformed("a BlockStored without block_hashes");
    }
    if (e.blockSize == 0) {
      throw new Malformed("a BlockStored without block_size");
    }
    String lora = e.loraName == null ? "" : e.loraName;
    String salt = "";
    if (e.parent == null) {
      List<String> s = e.firstExtraStrings;
      int at = !s.isEmpty() && !lora.isEmpty() && s.get(0).equals(lora) ? 1 : 0;
      salt = at < s.size() ? s.get(at) : "";
    } else if (!saltByKey.isEmpty()) {
      salt = saltByKey.getOrDefault(e.parent, "");
    }
    if (!salt.isEmpty() && saltByKey.size() + e.keys.size() <= MAX_SALTED_KEYS) {
      for (ByteString k : e.keys) {
        saltByKey.put(k, salt);
      }
    }
    BlockStored.Builder b =
        BlockStored.newBuilder().setBlockTokens(e.blockSize).setTier(tier(e.medium));
    for (ByteString k : e.keys) {
      b.addKeys(BlockKey.newBuilder().setDigest(k));
    }
    if (e.parent != null) {
      b.setParentKey(BlockKey.newBuilder().setDigest(e.parent));
    }
    for (int i = 0; i < e.tokenCount; i++) {
      b.addTokenIds(e.tokens[i]);
    }
    pending.add(BlockEvent.newBuilder().setNamespace(namespace(lora, salt)).setStored(b));
    storedEvents.increment();
    blocks.increment(e.keys.size());
  }

  private void removed(Fields e) throws Malformed {
    if (e.groupIdx != 0) {
      otherGroups.increment();
      return;
    }
    if (e.keys.isEmpty()) {
      throw new Malformed("a BlockRemoved without block_hashes");
    }
    BlockRemoved.Builder b = BlockRemoved.newBuilder().setTier(tier(e.medium));
    for (ByteString k : e.keys) {
      b.addKeys(BlockKey.newBuilder().setDigest(k));
      if (!saltByKey.isEmpty()) {
        saltByKey.remove(k);
      }
    }
    // BlockRemoved names no LoRA or salt: the keys are the pod's, whatever their namespace.
    pending.add(BlockEvent.newBuilder().setNamespace(namespace("", "")).setRemoved(b));
    removedEvents.increment();
    blocks.increment(e.keys.size());
  }

  private void allCleared() {
    saltByKey.clear();
    pending.add(BlockEvent.newBuilder().setCleared(Cleared.getDefaultInstance()));
    clearedEvents.increment();
  }

  private Namespace namespace(String lora, String salt) {
    Namespace n = lastNamespace;
    if (n.getModelId().equals(topicModel)
        && n.getLoraName().equals(lora)
        && n.getCacheSalt().equals(salt)) {
      return n;
    }
    n = Namespace.newBuilder().setModelId(topicModel).setLoraName(lora).setCacheSalt(salt).build();
    lastNamespace = n;
    return n;
  }

  /** vLLM's {@code medium} as a tier. */
  static Tier tier(String medium) {
    if (medium == null || medium.isEmpty()) {
      return Tier.TIER_GPU;
    }
    String m = medium.toUpperCase(Locale.ROOT);
    if (m.equals("GPU") || m.startsWith("GPU_") || m.equals("CUDA") || m.equals("DEVICE")) {
      return Tier.TIER_GPU;
    }
    if (m.startsWith("CPU") || m.contains("HOST") || m.contains("RAM") || m.equals("MEMORY")) {
      return Tier.TIER_HOST;
    }
    return Tier.TIER_DISK;
  }

  /** A block hash: an int as 8 bytes big-endian, or a bin as its bytes. */
  private ByteString key() throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    switch (f) {
      case UINT64 -> {
        unpacker.readPayload(wide, 0, 9); // the 0xcf marker, then the 8 bytes big-endian
        return ByteString.copyFrom(wide, 1, 8);
      }
      case POSFIXINT, NEGFIXINT, UINT8, UINT16, UINT32, INT8, INT16, INT32, INT64 -> {
        long v = unpacker.unpackLong();
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
          b[i] = (byte) v;
          v >>>= 8;
        }
        return UnsafeByteOperations.unsafeWrap(b);
      }
      case BIN8, BIN16, BIN32 -> {
        int n = unpacker.unpackBinaryHeader();
        if (n < 1 || n > 32) {
          throw new Malformed("a block hash of " + n + " bytes (1 to 32 allowed)");
        }
        return UnsafeByteOperations.unsafeWrap(unpacker.readPayload(n));
      }
      default -> throw new Malformed("a block hash is an int or bytes, not " + f);
    }
  }

  private long integer() throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    if (f.getValueType() != ValueType.INTEGER) {
      throw new Malformed("expected an integer, got " + f);
    }
    if (f == MessageFormat.UINT64) {
      unpacker.readPayload(wide, 0, 9);
      long v = 0;
      for (int i = 1; i < 9; i++) {
        v = (v << 8) | (wide[i] & 0xff);
      }
      if (v < 0) {
        throw new Malformed("an integer above 2^63");
      }
      return v;
    }
    return unpacker.unpackLong();
  }

  private double number() throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    return switch (f.getValueType()) {
      case FLOAT -> unpacker.unpackDouble();
      case INTEGER -> integer();
      case NIL -> {
        unpacker.unpackNil();
        yield 0;
      }
      default -> throw new Malformed("expected a number, got " + f);
    };
  }

  private String string() throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    if (f.getValueType() != ValueType.STRING) {
      throw new Malformed("expected a string, got " + f);
    }
    return unpacker.unpackString();
  }

  private String optionalString() throws IOException, Malformed {
    return unpacker.tryUnpackNil() ? null : string();
  }

  private int arrayHeader(String what) throws IOException, Malformed {
    MessageFormat f = unpacker.getNextFormat();
    if (f.getValueType() != ValueType.ARRAY) {
      throw new Malformed(what + " is not an array but " + f);
    }
    return unpacker.unpackArrayHeader();
  }

  /** The fields of the event being read; reused. */
  private static final class Fields {
    String type;
    final List<ByteString> keys = new ArrayList<>();
    ByteString parent;
    long[] tokens = new long[256];
    int tokenCount;
    int blockSize;
    String medium;
    String loraName;
    long groupIdx;
    final List<String> firstExtraStrings = new ArrayList<>(2);

    void reset() {
      type = null;
      keys.clear();
      parent = null;
      tokenCount = 0;
      blockSize = 0;
      medium = null;
      loraName = null;
      groupIdx = 0;
      firstExtraStrings.clear();
    }

    void tokens(int more) {
      if (tokenCount + more > tokens.length) {
        tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, tokenCount + more));
      }
    }
  }

  /** The payload does not have vLLM's shape. */
  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  /** Builds a decoder; {@link #pod} is required. */
  public static final class Builder {
    private String pod;
    private String model = "";
    private MeterRegistry registry;

    private Builder() {}

    /** The pod name events are attributed to (the name given in {@code --vllm-events}). */
    public Builder pod(String pod) {
      Objects.requireNonNull(pod, "pod");
      if (pod.isBlank()) {
        throw new IllegalArgumentException("pod name must not be blank");
      }
      this.pod = pod;
      return this;
    }

    /** The model id used when the topic is not {@code kv@<pod>@<model>}; default empty. */
    public Builder model(String model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** Where the decoder's counters go; default a private registry. */
    public Builder registry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    public VllmEventDecoder build() {
      if (pod == null) {
        throw new IllegalStateException("pod is required");
      }
      if (registry == null) {
        registry = new SimpleMeterRegistry();
      }
      return new VllmEventDecoder(this);
    }
  }
}
