package io.kvhoard.server.transport.grpc;

import static io.kvhoard.server.transport.grpc.Statuses.invalid;

import com.google.protobuf.ByteString;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.DType;
import io.kvhoard.protocol.key.KvLayout;
import io.kvhoard.protocol.key.Namespace;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.protocol.v1.StatsResponse;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.protocol.v1.TierStats;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.StoreStats;
import io.kvhoard.server.store.TierKind;
import io.kvhoard.server.store.directory.DirectoryEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversions between the wire messages of {@code kvhoard.v1} and the store's types, with the
 * checks of every field a request carries. A check that fails throws an {@code INVALID_ARGUMENT}
 * {@link io.grpc.StatusRuntimeException} naming the field, what was wrong and what to send.
 *
 * <p>The wire carries a namespace as its fields (model, layout, salt, ...), never as its id: the id
 * is derived here exactly as {@link Namespace#id()} specifies, so a gRPC client and a data-plane
 * client naming the same namespace reach the same blocks. Two proto3 defaults are read as the
 * natural value rather than rejected: {@code format_version} 0 is the current format and {@code
 * tp_size} 0 is no tensor parallelism.
 *
 * <p>Stateless and thread-safe.
 */
final class Wire {
  private Wire() {}

  /** The id of the namespace a request names; {@code present}: whether it has the field at all. */
  static NamespaceId namespaceId(boolean present, io.kvhoard.protocol.v1.Namespace ns) {
    return namespace(present, ns).id();
  }

  /**
   * The namespace a request names.
   *
   * @param present whether the request has the field at all
   */
  static Namespace namespace(boolean present, io.kvhoard.protocol.v1.Namespace ns) {
    if (!present) {
      throw invalid(
          "namespace is missing: every request names the engine's namespace (model_id, layout,"
              + " hash_seed, and cache_salt / lora_name if any)");
    }
    if (ns.getModelId().isBlank()) {
      throw invalid("namespace.model_id is empty: set it to the model the engine serves");
    }
    if (!ns.hasLayout()) {
      throw invalid("namespace.layout is missing: set the engine's KV layout");
    }
    io.kvhoard.protocol.v1.KvLayout l = ns.getLayout();
    int tpSize = l.getTpSize() == 0 ? 1 : l.getTpSize();
    int format =
        ns.getFormatVersion() == 0 ? Namespace.CURRENT_FORMAT_VERSION : ns.getFormatVersion();
    try {
      KvLayout layout =
          new KvLayout(
              l.getLayers(),
              l.getKvHeads(),
              l.getHeadDim(),
              dtype(l.getDtype()),
              l.getBlockTokens(),
              l.getTpRank(),
              tpSize);
      return Namespace.newBuilder()
          .modelId(ns.getModelId())
          .layout(layout)
          .formatVersion(format)
          .cacheSalt(ns.getCacheSalt())
          .loraName(ns.getLoraName())
          .hashSeed(ns.getHashSeed())
          .build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw invalid("namespace.layout is not valid: " + e.getMessage());
    }
  }

  private static DType dtype(io.kvhoard.protocol.v1.DType d) {
    return switch (d) {
      case DTYPE_FLOAT16 -> DType.FLOAT16;
      case DTYPE_BFLOAT16 -> DType.BFLOAT16;
      case DTYPE_FLOAT32 -> DType.FLOAT32;
      case DTYPE_FP8_E4M3 -> DType.FP8_E4M3;
      case DTYPE_FP8_E5M2 -> DType.FP8_E5M2;
      case DTYPE_INT8 -> DType.INT8;
      case DTYPE_UNSPECIFIED, UNRECOGNIZED ->
          throw invalid(
              "namespace.layout.dtype is "
                  + d
                  + ": set the KV cache's element type (DTYPE_BFLOAT16, DTYPE_FLOAT16, ...)");
    };
  }

  /**
   * The tokens a block of {@code length} bytes covers, for the store's eviction (a partial last
   * block is evicted before full ones): a whole number of tokens up to a full block if the length
   * is one, a full block otherwise. The wire's header does not say; the layout nearly always does.
   */
  static int tokens(KvLayout layout, long length) {
    long perToken = layout.bytesPerToken();
    long n = length / perToken;
    if (length % perToken == 0 && n >= 1 && n <= layout.blockTokens()) {
      return (int) n;
    }
    return layout.blockTokens();
  }

  /**
   * A 32-byte block key.
   *
   * @param field the field's name in the request, for the message ({@code keys[3]})
   */
  static BlockKey blockKey(io.kvhoard.protocol.v1.BlockKey key, String field) {
    ByteString d = key.getDigest();
    if (d.size() != BlockKey.BYTES) {
      throw invalid(
          field
              + ".digest is "
              + d.size()
              + " bytes; a block key is "
              + BlockKey.BYTES
              + " bytes (the SHA-256 prefix hash of the block)");
    }
    return BlockKey.of(d.toByteArray());
  }

  /** Every key of a request, checked before any is used, in the namespace {@code ns}. */
  static List<StoreKey> storeKeys(NamespaceId ns, List<io.kvhoard.protocol.v1.BlockKey> keys) {
    List<StoreKey> out = new ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      out.add(new StoreKey(ns, blockKey(keys.get(i), "keys[" + i + "]")));
    }
    return out;
  }

  /** The wire form of a key. */
  static io.kvhoard.protocol.v1.BlockKey toWire(BlockKey key) {
    return io.kvhoard.protocol.v1.BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(key.toBytes()))
        .build();
  }

  static Tier toWire(TierKind kind) {
    return switch (kind) {
      case GPU -> Tier.TIER_GPU;
      case HOST -> Tier.TIER_HOST;
      case DISK -> Tier.TIER_DISK;
    };
  }

  /** The hottest tier an entry says holds the block. */
  static Tier hottest(DirectoryEntry e) {
    TierKind k = e.hottest();
    return k == null ? Tier.TIER_UNSPECIFIED : toWire(k);
  }

  /**
   * The store's counters as the wire's per-tier figures. The store counts misses once, for reads no
   * tier served; a tier's {@code misses} here are the reads that reached it and were not served by
   * it: those store misses plus the hits of every colder tier. {@code checksum_failures} are the
   * tier's failed reads, checksum mismatches and medium errors alike (both are served as misses).
   */
  static StatsResponse stats(StoreStats s, String pod, String version) {
    StatsResponse.Builder out = StatsResponse.newBuilder().setPod(pod).setVersion(version);
    List<StoreStats.TierStats> tiers = s.tiers();
    for (int i = 0; i < tiers.size(); i++) {
      StoreStats.TierStats t = tiers.get(i);
      long misses = s.misses();
      for (int j = i + 1; j < tiers.size(); j++) {
        misses += tiers.get(j).hits();
      }
      out.addTiers(
          TierStats.newBuilder()
              .setTier(toWire(t.kind()))
              .setCapacityBytes(t.capacityBytes())
              .setUsedBytes(t.usedBytes())
              .setBlocks(t.blocks())
              .setHits(t.hits())
              .setMisses(misses)
              .setEvictions(t.evictions())
              .setChecksumFailures(t.readFailures()));
    }
    return out.build();
  }
}
