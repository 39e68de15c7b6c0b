package io.kvhoard.protocol.key;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything that must match for two blocks with the same token prefix to be interchangeable: the
 * model, the {@link KvLayout}, kvhoard's block format version, the tenant's cache salt, the LoRA
 * adapter and the prefix hash seed.
 *
 * <p>Every stored key is scoped by the namespace's {@link #id()}, so a block of another layout,
 * tenant or adapter can never be returned for a lookup: a wrong block is impossible, not unlikely.
 * The salt and LoRA name also enter the key chain itself ({@link #hasher()}), as in vLLM.
 *
 * <p>Immutable and thread-safe.
 */
public final class Namespace {
  /** The block format version this build writes. */
  public static final int CURRENT_FORMAT_VERSION = 1;

  private final String modelId;
  private final KvLayout layout;
  private final int formatVersion;
  private final String cacheSalt;
  private final String loraName;
  private final String hashSeed;
  private final NamespaceId id;

  private Namespace(Builder b) {
    this.modelId = b.modelId;
    this.layout = b.layout;
    this.formatVersion = b.formatVersion;
    this.cacheSalt = b.cacheSalt;
    this.loraName = b.loraName;
    this.hashSeed = b.hashSeed;
    this.id = computeId();
  }

  /** A builder; model id, layout and hash seed are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  public String modelId() {
    return modelId;
  }

  public KvLayout layout() {
    return layout;
  }

  public int formatVersion() {
    return formatVersion;
  }

  /** The tenant's cache salt; empty for none. */
  public String cacheSalt() {
    return cacheSalt;
  }

  /** The LoRA adapter name; empty for the base model. */
  public String loraName() {
    return loraName;
  }

  public String hashSeed() {
    return hashSeed;
  }

  /**
   * The 16-byte id: the first 16 bytes of SHA-256 over the canonical CBOR array {@code
   * ["kvhoard-namespace", formatVersion, modelId, layers, kvHeads, headDim, dtype, blockTokens,
   * tpRank, tpSize, cacheSalt, loraName, hashSeed]} (dtype as its enum name). Specified in {@code
   * protocol/PROTOCOL.md} so clients in other languages derive the same id.
   */
  public NamespaceId id() {
    return id;
  }

  /** The prefix hasher for this namespace: its seed, block size, LoRA name and salt. */
  public PrefixHasher hasher() {
    PrefixHasher.Builder b =
        PrefixHasher.newBuilder().seed(hashSeed).blockSize(layout.blockTokens());
    if (!loraName.isEmpty()) {
      b.extraKey(loraName);
    }
    return b.cacheSalt(cacheSalt).build();
  }

  private NamespaceId computeId() {
    List<byte[]> items = new ArrayList<>();
    items.add(Cbor.text("kvhoard-namespace"));
    items.add(Cbor.uint(formatVersion));
    items.add(Cbor.text(modelId));
    items.add(Cbor.uint(layout.layers()));
    items.add(Cbor.uint(layout.kvHeads()));
    items.add(Cbor.uint(layout.headDim()));
    items.add(Cbor.text(layout.dtype().name()));
    items.add(Cbor.uint(layout.blockTokens()));
    items.add(Cbor.uint(layout.tpRank()));
    items.add(Cbor.uint(layout.tpSize()));
    items.add(Cbor.text(cacheSalt));
    items.add(Cbor.text(loraName));
    items.add(Cbor.text(hashSeed));
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Cbor.arrayOrNull(items));
      return NamespaceId.of(digest, 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256, which every Java SE must have", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Namespace n
        && formatVersion == n.formatVersion
        && modelId.equals(n.modelId)
        && layout.equals(n.layout)
        && cacheSalt.equals(n.cacheSalt)
        && loraName.equals(n.loraName)
        && hashSeed.equals(n.hashSeed);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  /** Readable, without the salt's value (a tenant secret). */
  @Override
  public String toString() {
    return "Namespace{model="
        + modelId
        + ", layout="
        + layout
        + ", format="
        + formatVersion
        + (loraName.isEmpty() ? "" : ", lora=" + loraName)
        + (cacheSalt.isEmpty() ? "" : ", salted")
        + ", seed="
        + hashSeed
        + ", id="
        + id
        + '}';
  }

  /** Builds a {@link Namespace}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private String modelId;
    private KvLayout layout;
    private int formatVersion = CURRENT_FORMAT_VERSION;
    private String cacheSalt = "";
    private String loraName = "";
    private String hashSeed;

    private Builder() {}

    /** The model, as the engine names it (e.g. {@code Qwen/Qwen3-0.6B}). Required. */
    public Builder modelId(String modelId) {
      Objects.requireNonNull(modelId, "modelId");
      if (modelId.isBlank()) {
        throw new IllegalArgumentException("modelId must not be blank");
      }
      this.modelId = modelId;
      return this;
    }

    /** The KV layout of this engine rank. Required. */
    public Builder layout(KvLayout layout) {
      this.layout = Objects.requireNonNull(layout, "layout");
      return this;
    }

    /** The block format version; defaults to {@link #CURRENT_FORMAT_VERSION}. */
    public Builder formatVersion(int formatVersion) {
      if (formatVersion < 1) {
        throw new IllegalArgumentException(
            "formatVersion must be at least 1, got " + formatVersion);
      }
      this.formatVersion = formatVersion;
      return this;
    }

    /** The tenant's cache salt; null or empty for none. */
    public Builder cacheSalt(String cacheSalt) {
      this.cacheSalt = cacheSalt == null ? "" : cacheSalt;
      return this;
    }

    /** The LoRA adapter name; null or empty for the base model. */
    public Builder loraName(String loraName) {
      this.loraName = loraName == null ? "" : loraName;
      return this;
    }

    /** The engine's prefix hash seed ({@code PYTHONHASHSEED}). Required. */
    public Builder hashSeed(String hashSeed) {
      this.hashSeed = Objects.requireNonNull(hashSeed, "hashSeed");
      return this;
    }

    /**
     * Builds the namespace.
     *
     * @throws IllegalStateException naming the first required field that is missing
     */
    public Namespace build() {
      if (modelId == null) {
        throw new IllegalStateException("modelId is required");
      }
      if (layout == null) {
        throw new IllegalStateException("layout is required");
      }
      if (hashSeed == null) {
        throw new IllegalStateException(
            "hashSeed is required: use the engine's PYTHONHASHSEED so keys match its own");
      }
      return new Namespace(this);
    }
  }
}
