package io.kvhoard.perf.sim;

import io.kvhoard.server.store.eviction.EvictionPolicy;
import io.kvhoard.server.store.eviction.PrefixAwareLru;
import io.kvhoard.server.store.eviction.WindowTinyLfu;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The policies {@code hitratio} can replay, by the name on its command line. */
enum Policy {
  OPT("opt", "Belady's offline optimum: evicts the block used farthest in the future (the limit)"),
  LRU("lru", "plain LRU over blocks, blind to prefixes (the baseline)"),
  LEAF_LRU("leaf-lru", "PrefixAwareLru without partial-tail rank or reuse bonus: LRU among leaves"),
  PREFIX_LRU("prefix-lru", "PrefixAwareLru as the store runs it (the default)"),
  TINYLFU("tinylfu", "WindowTinyLfu: a W-TinyLFU admission window in front of prefix-lru"),
  TINYLFU_BLIND("tinylfu-blind", "WindowTinyLfu prefix-blind: Caffeine's W-TinyLFU over blocks"),
  ORACLE_LRU("oracle-lru", "diagnostic: LRU told which blocks are never used again (offline)");

  /** The policy the store runs. */
  static final Policy DEFAULT = PREFIX_LRU;

  private final String id;
  private final String description;

  Policy(String id, String description) {
    this.id = id;
    this.description = description;
  }

  String id() {
    return id;
  }

  String description() {
    return description;
  }

  /** A fresh policy for one replay of {@code trace} at {@code capacityBlocks}. */
  EvictionPolicy<Long> create(Trace trace, long capacityBlocks) {
    return switch (this) {
      case OPT -> new Belady(trace);
      case ORACLE_LRU -> new OracleLru(trace);
      case LRU -> new Lru<>();
      case LEAF_LRU ->
          PrefixAwareLru.newBuilder()
              .capacityBlocks(capacityBlocks)
              .blockTokens(trace.blockTokens())
              .partialTailsFirst(false)
              .reuseBonus(false)
              .build();
      case PREFIX_LRU ->
          PrefixAwareLru.newBuilder()
              .capacityBlocks(capacityBlocks)
              .blockTokens(trace.blockTokens())
              .build();
      case TINYLFU ->
          WindowTinyLfu.newBuilder()
              .capacityBlocks(capacityBlocks)
              .blockTokens(trace.blockTokens())
              .build();
      case TINYLFU_BLIND ->
          WindowTinyLfu.newBuilder()
              .capacityBlocks(capacityBlocks)
              .blockTokens(trace.blockTokens())
              .prefixAware(false)
              .build();
    };
  }

  /**
   * The policy named {@code id}.
   *
   * @throws IllegalArgumentException listing the names, if there is none
   */
  static Policy byId(String id) {
    for (Policy p : values()) {
      if (p.id.equals(id)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown policy '"
            + id
            + "'; known: "
            + Arrays.stream(values()).map(Policy::id).collect(Collectors.joining(", ")));
  }
}
