package io.kvhoard.server.index;

import com.google.protobuf.ByteString;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockRemoved;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The prefix index: per namespace (model, LoRA adapter, cache salt) and pod, which blocks of which
 * prefixes the pod holds and on which tier, fed by block events and asked, per prompt, how many
 * leading blocks each pod holds ({@link #match}); {@link Scorer} turns that into a routing score.
 *
 * <pre>{@code
 * try (PrefixIndex index = PrefixIndex.newBuilder().capacity(10_000_000).build()) {
 *   vllmSource.start(index);                       // any BlockEventSink source
 *   long[] keys = index.keysOfTokens(ns, tokenIds);
 *   List<PodMatch> held = index.match(ns, keys, List.of());
 * }
 * }</pre>
 *
 * <p>Design. The index keeps its own canonical keys ({@link CanonicalKeys}: chained xxh3-64 over
 * the tokens at its block size, seeded per namespace), computed from the token ids of {@code
 * BlockStored} events, so pods whose engines use other block sizes or hash seeds index alike; the
 * chain state after each engine block is kept per (namespace, pod) in an engine-key map, so a later
 * event continues the chain from its {@code parent_key}, an engine block of 32 tokens yields two
 * canonical blocks of 16 and two of 8 one, and a {@code BlockRemoved} (engine keys only) finds the
 * canonical keys to drop. llm-d's kv-cache-manager does the same (kvblock index keyed by token
 * hashes, engine-key mapping for removals, since 2025-12); vLLM's prefix caching is the chained key
 * scheme; Mooncake's store and conductor keep such a cluster-wide prefix map off the heap. Events
 * without tokens (kvhoard publishers that know only keys, the routing simulator) index the
 * publisher's key itself, hashed with the namespace seed, and a query by keys matches those.
 *
 * <p>Storage: {@link BlockTable}, an off-heap open-addressing multimap of 16-byte (block, lane)
 * slots bounded in entries (full segments reuse dead entries, then evict the oldest of a sample,
 * counted), and {@link EngineKeyTable}. A lane is a (namespace, pod) pair; clearing one, or a pod
 * falling silent for the TTL, bumps its generation, which kills its entries at once; they are
 * reclaimed lazily when a table meets them. Scoring never reads a dead entry.
 *
 * <p>Thread-safe: any number of threads may deliver events and query at once; a query sees each
 * block as of some moment during the query. {@link #accept} never blocks on I/O and never throws:
 * malformed events are counted and dropped. Events of one pod must come from one source at a time
 * (the {@link BlockEventSink} contract). {@link #close()} frees the tables; using the index after
 * it throws {@link IllegalStateException}.
 */
public final class PrefixIndex implements BlockEventSink, AutoCloseable {
  /** Largest index block size: a partial canonical block is at most this less one token. */
  public static final int MAX_BLOCK_TOKENS = 256;

  private final int blockTokens;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final Lanes lanes = new Lanes();
  private final BlockTable table;
  private final EngineKeyTable engine;
  private final Map<NsKey, NsState> namespaces = new ConcurrentHashMap<>();
  private final Map<String, PodState> pods = new ConcurrentHashMap<>();
  private final Object registry = new Object();
  private final ThreadLocal<Scratch> scratch;
  private final LongAdder applied = new LongAdder();
  private final LongAdder malformed = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private volatile long lastSweep;
  private volatile boolean closed;
  private long touchSink;

  private PrefixIndex(Builder b) {
    this.blockTokens = b.blockTokens;
    this.ttlNanos = b.podTtl.toNanos();
    this.clock = b.clock;
    int bits = segmentBits(b.capacity);
    this.table = new BlockTable(b.capacity, bits, lanes);
    this.engine =
        new EngineKeyTable(b.engineCapacity < 0 ? b.capacity : b.engineCapacity, bits, lanes);
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(blockTokens));
    this.lastSweep = clock.getAsLong();
  }

  private static int segmentBits(long capacity) {
    int bits = 0;
    while (bits < 6 && capacity >> (bits + 1) >= 4096) {
      bits++;
    }
    while ((capacity >> bits) / BlockTable.MAX_LOAD + 1 > SlotSegment.MAX_SLOTS && bits < 16) {
      bits++;
    }
    return bits;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The index's block size in tokens (its canonical keys cover this many tokens each). */
  public int blockTokens() {
    return blockTokens;
  }

  // ---------------------------------------------------------------------------------- events

  @Override
  public void accept(BlockEvent event) {
    if (closed) {
      dropped.increment();
      return;
    }
    long now = clock.getAsLong();
    if (now - lastSweep > Math.max(ttlNanos / 4, 1_000_000_000L)) {
      expire(now);
    }
    try {
      switch (event.getEventCase()) {
        case STORED -> stored(event, event.getStored(), now);
        case REMOVED -> removed(event, event.getRemoved(), now);
        case CLEARED -> cleared(event, now);
        default -> throw new Malformed();
      }
      applied.increment();
    } catch (Malformed e) {
      malformed.increment();
    } catch (Dropped e) {
      dropped.increment();
    }
  }

  /**
   * Marks the pod alive now without an event (a source that hears from it, a load report). A pod
   * not known yet is ignored.
   */
  public void heartbeat(String pod) {
    PodState p = pods.get(pod);
    if (p != null) {
      p.lastSeen = clock.getAsLong();
    }
  }

  private void stored(BlockEvent e, BlockStored s, long now) throws Malformed, Dropped {
    int n = s.getKeysCount();
    int tokens = s.getTokenIdsCount();
    if (n == 0) {
      throw new Malformed();
    }
    for (int i = 0; i < n; i++) {
      checkKey(s.getKeys(i));
    }
    int engineBlock = s.getBlockTokens();
    if (tokens > 0) {
      if (engineBlock == 0 && tokens % n == 0) {
        engineBlock = tokens / n;
      }
      if (engineBlock == 0 || (long) engineBlock * n != tokens) {
        throw new Malformed();
      }
    }
    int tier = storedTier(s.getTier());
    NsState ns = namespace(e);
    PodState pod = pod(e.getPod(), now);
    int lane = lane(pod, ns, true);
    int gen = lanes.generation(lane);
    if (tokens == 0) {
      if (engineBlock > 0) {
        ns.keyBlockTokens = engineBlock;
      }
      for (int i = 0; i < n; i++) {
        table.put(CanonicalKeys.publisherKey(ns.seed, s.getKeys(i).getDigest()), lane, gen, tier);
      }
      return;
    }
    Scratch x = scratch.get();
    long[] buf = x.hashBuf;
    long chain = ns.seed;
    int partial = 0;
    if (s.hasParentKey()) {
      checkKey(s.getParentKey());
      long pid = CanonicalKeys.engineId(lane, s.getParentKey().getDigest());
      if (!engine.get(pid, lane, gen, x.state)) {
        throw new Dropped();
      }
      chain = x.state.chain;
      partial = x.state.partialCount;
      System.arraycopy(x.state.partial, 0, buf, 1, partial);
    }
    int t = 0;
    for (int i = 0; i < n; i++) {
      int done = 0;
      for (int j = 0; j < engineBlock; j++) {
        buf[1 + partial++] = s.getTokenIds(t++);
        if (partial == blockTokens) {
          buf[0] = chain;
          chain = CanonicalKeys.block(buf, blockTokens + 1);
          table.put(chain, lane, gen, tier);
          if (done == x.completed.length) {
            x.completed = Arrays.copyOf(x.completed, done * 2);
          }
          x.completed[done++] = chain;
          partial = 0;
        }
      }
      System.arraycopy(buf, 1, x.partial, 0, partial);
      engine.put(
          CanonicalKeys.engineId(lane, s.getKeys(i).getDigest()),
          lane,
          gen,
          tier,
          chain,
          x.completed,
          done,
          x.partial,
          partial);
    }
  }

  private void removed(BlockEvent e, BlockRemoved r, long now) throws Malformed, Dropped {
    int n = r.getKeysCount();
    if (n == 0) {
      throw new Malformed();
    }
    for (int i = 0; i < n; i++) {
      checkKey(r.getKeys(i));
    }
    int tiers = r.getTier() == Tier.TIER_UNSPECIFIED ? BlockTable.ALL_TIERS : tierBit(r.getTier());
    NsState ns = namespace(e);
    PodState pod = pod(e.getPod(), now);
    int lane = lane(pod, ns, false);
    if (lane < 0) {
      return;
    }
    int gen = lanes.generation(lane);
    Scratch x = scratch.get();
    for (int i = 0; i < n; i++) {
      ByteString key = r.getKeys(i).getDigest();
      if (engine.remove(CanonicalKeys.engineId(lane, key), lane, gen, tiers, x.state)) {
        for (int c = 0; c < x.state.completedCount; c++) {
          table.remove(x.state.completed[c], lane, tiers);
        }
      } else {
        table.remove(CanonicalKeys.publisherKey(ns.seed, key), lane, tiers);
      }
    }
  }

  private void cleared(BlockEvent e, long now) throws Malformed {
    PodState pod = pod(e.getPod(), now);
    synchronized (registry) {
      if (!e.hasNamespace()) {
        for (int lane : pod.lanes.values()) {
          lanes.clear(lane);
        }
      } else {
        NsState ns = namespaces.get(NsKey.of(e.getNamespace()));
        Integer lane = ns == null ? null : pod.lanes.get(ns);
        if (lane != null) {
          lanes.clear(lane);
        }
      }
    }
  }

  private static void checkKey(BlockKey k) throws Malformed {
    int n = k.getDigest().size();
    if (n < 1 || n > 32) {
      throw new Malformed();
    }
  }

  private static int storedTier(Tier t) throws Malformed {
    return t == Tier.TIER_UNSPECIFIED ? BlockTable.TIER_GPU : tierBit(t);
  }

  private static int tierBit(Tier t) throws Malformed {
    return switch (t) {
      case TIER_GPU -> BlockTable.TIER_GPU;
      case TIER_HOST -> BlockTable.TIER_HOST;
      case TIER_DISK -> BlockTable.TIER_DISK;
      default -> throw new Malformed();
    };
  }

  // -------------------------------------------------------------------------------- registry

  private NsState namespace(BlockEvent e) {
    NsKey k = NsKey.of(e.getNamespace());
    NsState ns = namespaces.get(k);
    return ns != null ? ns : namespaces.computeIfAbsent(k, NsState::new);
  }

  private PodState pod(String name, long now) throws Malformed {
    if (name.isEmpty()) {
      throw new Malformed();
    }
    PodState p = pods.get(name);
    if (p == null) {
      synchronized (registry) {
        p = pods.computeIfAbsent(name, PodState::new);
      }
    }
    p.lastSeen = now;
    return p;
  }

  /** The pod's lane in the namespace, opened if {@code create}; -1 if none. */
  private int lane(PodState pod, NsState ns, boolean create) throws Dropped {
    Integer lane = pod.lanes.get(ns);
    if (lane != null) {
      return lane;
    }
    if (!create) {
      return -1;
    }
    synchronized (registry) {
      lane = pod.lanes.get(ns);
      if (lane != null) {
        return lane;
      }
      int id = lanes.open();
      if (id < 0) {
        throw new Dropped();
      }
      pod.lanes.put(ns, id);
      LaneRef[] old = ns.lanes;
      LaneRef[] grown = Arrays.copyOf(old, old.length + 1);
      grown[old.length] = new LaneRef(id, pod);
      ns.lanes = grown;
      if (pods.get(pod.name) != pod) {
        pods.put(pod.name, pod);
      }
      return id;
    }
  }

  /** Forgets pods silent for longer than the TTL; their entries die and are reclaimed lazily. */
  private void expire(long now) {
    synchronized (registry) {
      lastSweep = now;
      for (PodState p : new ArrayList<>(pods.values())) {
        if (now - p.lastSeen > ttlNanos) {
          pods.remove(p.name);
          for (Map.Entry<NsState, Integer> l : p.lanes.entrySet()) {
            lanes.retire(l.getValue());
            NsState ns = l.getKey();
            ns.lanes = Arrays.stream(ns.lanes).filter(r -> r.pod != p).toArray(LaneRef[]::new);
          }
          p.lanes.clear();
        }
      }
    }
  }

  // --------------------------------------------------------------------------------- queries

  /**
   * The canonical keys of a prompt's full blocks ({@code tokens / blockTokens()} of them).
   *
   * @param tokenIds the prompt's token ids
   * @param count how many of {@code tokenIds} to use
   */
  public long[] keysOfTokens(Namespace namespace, long[] tokenIds, int count) {
    Objects.checkFromIndexSize(0, count, tokenIds.length);
    NsKey k = NsKey.of(namespace);
    NsState ns = namespaces.get(k);
    long chain = ns != null ? ns.seed : k.seed();
    int blocks = count / blockTokens;
    long[] keys = new long[blocks];
    long[] buf = scratch.get().hashBuf;
    for (int b = 0; b < blocks; b++) {
      buf[0] = chain;
      System.arraycopy(tokenIds, b * blockTokens, buf, 1, blockTokens);
      chain = CanonicalKeys.block(buf, blockTokens + 1);
      keys[b] = chain;
    }
    return keys;
  }

  /** The canonical keys of a publisher's block keys, for prompts given by keys (no tokens). */
  public long[] keysOfPublisherKeys(Namespace namespace, List<BlockKey> keys) {
    long seed = NsKey.of(namespace).seed();
    long[] out = new long[keys.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = CanonicalKeys.publisherKey(seed, keys.get(i).getDigest());
    }
    return out;
  }

  /** The canonical keys of 64-bit publisher keys (an 8-byte big-endian digest's value). */
  public long[] keysOfPublisherKeys(Namespace namespace, long[] keys) {
    long seed = NsKey.of(namespace).seed();
    long[] out = new long[keys.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = CanonicalKeys.publisherKey(seed, keys[i]);
    }
    return out;
  }

  /**
   * The block size key-only publishers of the namespace declared ({@code block_tokens} of their
   * events), or 0 if none did: what a query by keys counts tokens in.
   */
  public int publisherBlockTokens(Namespace namespace) {
    NsState ns = namespaces.get(NsKey.of(namespace));
    return ns == null ? 0 : ns.keyBlockTokens;
  }

  /**
   * Per pod, the leading blocks of {@code keys} it holds, by tier.
   *
   * @param keys canonical keys of the prompt's blocks, first to last ({@link #keysOfTokens})
   * @param candidates pods to consider; empty for every live pod of the namespace. A candidate the
   *     index does not know is returned with no blocks.
   * @return one match per pod, in no particular order
   */
  public List<PodMatch> match(Namespace namespace, long[] keys, Collection<String> candidates) {
    return match(namespace, keys, null, keys.length, candidates, null);
  }

  /**
   * Per pod, the leading blocks of the prompt {@code tokenIds[0, count)} it holds, by tier: the
   * same answer as {@code match(namespace, keysOfTokens(namespace, tokenIds, count), candidates)},
   * with the hashing of each group of blocks overlapped with the table probes of the group and no
   * key array allocated.
   *
   * @param lastKey if not null, {@code lastKey[0]} receives the canonical key of the prompt's last
   *     full block (every block is hashed even when no pod holds the rest), or {@code count} if the
   *     prompt has no full block: a hash of the request for tie-breaking
   */
  public List<PodMatch> matchTokens(
      Namespace namespace,
      long[] tokenIds,
      int count,
      Collection<String> candidates,
      long[] lastKey) {
    Objects.checkFromIndexSize(0, count, tokenIds.length);
    List<PodMatch> out = match(namespace, null, tokenIds, count / blockTokens, candidates, lastKey);
    if (lastKey != null && count < blockTokens) {
      lastKey[0] = count;
    }
    return out;
  }

  /**
   * Blocks hashed, then touched, then looked up, per group: enough independent loads to overlap
   * their misses (16 measured faster than 64, and than hashing the next group during this one's
   * lookups).
   */
  private static final int GROUP = 16;

  /**
   * The match loop, over given keys or over keys hashed from tokens as it goes. Per group of {@link
   * #GROUP} blocks: the keys (hashed if from tokens), then one load of each key's home slot
   * (independent loads, so the processor overlaps their cache and TLB misses: group prefetching,
   * Chen et al., "Improving Hash Join Performance through Prefetching", ICDE 2004), then the
   * lookups, which find their lines in cache. Nothing is allocated per block. The only early exit
   * is when no pod is still matching, checked per block; hashing goes on to the last block only for
   * {@code lastKey}.
   */
  private List<PodMatch> match(
      Namespace namespace,
      long[] keys,
      long[] tokenIds,
      int blocks,
      Collection<String> candidates,
      long[] lastKey) {
    if (closed) {
      throw new IllegalStateException("the prefix index is closed");
    }
    long now = clock.getAsLong();
    NsKey nk = NsKey.of(namespace);
    NsState ns = namespaces.get(nk);
    LaneRef[] refs = ns == null ? new LaneRef[0] : ns.lanes;
    Set<String> wanted = candidates.isEmpty() ? Set.of() : new HashSet<>(candidates);
    Scratch x = scratch.get();
    int[] local = x.laneToLocal;
    LaneRef[] sel = new LaneRef[refs.length];
    int[] gens = new int[refs.length];
    int lanesSel = 0;
    for (LaneRef r : refs) {
      if (now - r.pod.lastSeen <= ttlNanos && (wanted.isEmpty() || wanted.contains(r.pod.name))) {
        sel[lanesSel] = r;
        gens[lanesSel] = lanes.generation(r.id);
        local[r.id] = ++lanesSel;
      }
    }
    int[] run = new int[lanesSel];
    int[] tierCounts = new int[lanesSel * 3];
    int alive = lanesSel;
    long sink = 0;
    long chain = ns != null ? ns.seed : nk.seed();
    long[] group = x.group;
    try {
      for (int g0 = 0; g0 < blocks && (alive > 0 || lastKey != null); g0 += GROUP) {
        int m = Math.min(GROUP, blocks - g0);
        chain = keysOfGroup(keys, tokenIds, g0, m, chain, group, x.hashBuf);
        if (alive == 0) {
          continue; // only hashing on, for lastKey
        }
        sink ^= touchGroup(group, m);
        for (int j = 0; j < m && alive > 0; j++) {
          int i = g0 + j;
          int found = table.get(group[j], x.lookup);
          long[] v = x.lookup.values;
          int advanced = 0;
          for (int f = 0; f < found; f++) {
            int loc = local[BlockTable.lane(v[f])] - 1;
            if (loc < 0 || run[loc] != i || BlockTable.gen(v[f]) != gens[loc]) {
              continue;
            }
            run[loc] = i + 1;
            int t = BlockTable.tiers(v[f]);
            tierCounts[loc * 3 + ((t & 1) != 0 ? 0 : (t & 2) != 0 ? 1 : 2)]++;
            advanced++;
          }
          alive = advanced;
        }
      }
    } finally {
      for (int l = 0; l < lanesSel; l++) {
        local[sel[l].id] = 0;
      }
    }
    touchSink = sink;
    if (lastKey != null) {
      lastKey[0] = chain;
    }
    List<PodMatch> out = new ArrayList<>(lanesSel + wanted.size());
    for (int l = 0; l < lanesSel; l++) {
      // a lane cleared during the query counts none of its blocks
      boolean live = lanes.live(sel[l].id, gens[l]);
      int g = live ? tierCounts[l * 3] : 0;
      int h = live ? tierCounts[l * 3 + 1] : 0;
      int d = live ? tierCounts[l * 3 + 2] : 0;
      out.add(new PodMatch(sel[l].pod.name, g + h + d, g, h, d));
    }
    if (!candidates.isEmpty()) {
      Set<String> seen = new HashSet<>();
      for (int l = 0; l < lanesSel; l++) {
        seen.add(sel[l].pod.name);
      }
      for (String c : candidates) {
        if (seen.add(c)) {
          out.add(new PodMatch(c, 0, 0, 0, 0));
        }
      }
    }
    return out;
  }

  /**
   * The keys of blocks {@code [from, from + n)} into {@code out}: copied from {@code keys}, or
   * hashed from the tokens continuing {@code chain}; returns the chain after them.
   */
  private long keysOfGroup(
      long[] keys, long[] tokenIds, int from, int n, long chain, long[] out, long[] buf) {
    if (keys != null) {
      System.arraycopy(keys, from, out, 0, n);
      return chain;
    }
    for (int j = 0; j < n; j++) {
      buf[0] = chain;
      System.arraycopy(tokenIds, (from + j) * blockTokens, buf, 1, blockTokens);
      chain = CanonicalKeys.block(buf, blockTokens + 1);
      out[j] = chain;
    }
    return chain;
  }

  private long touchGroup(long[] group, int n) {
    long sink = 0;
    for (int j = 0; j < n; j++) {
      sink ^= table.touch(group[j]);
    }
    return sink;
  }

  /** The live pods (an event within the TTL) of the namespace. */
  public List<String> pods(Namespace namespace) {
    long now = clock.getAsLong();
    NsState ns = namespaces.get(NsKey.of(namespace));
    List<String> out = new ArrayList<>();
    if (ns != null) {
      for (LaneRef r : ns.lanes) {
        if (now - r.pod.lastSeen <= ttlNanos) {
          out.add(r.pod.name);
        }
      }
    }
    return out;
  }

  public IndexStats stats() {
    long now = clock.getAsLong();
    int live = 0;
    for (PodState p : pods.values()) {
      if (now - p.lastSeen <= ttlNanos) {
        live++;
      }
    }
    return new IndexStats(
        table.size(),
        table.capacity(),
        engine.size(),
        table.bytes() + engine.bytes(),
        live,
        namespaces.size(),
        applied.sum(),
        malformed.sum(),
        dropped.sum(),
        table.evicted.sum() + engine.evicted.sum(),
        table.reclaimed.sum());
  }

  /** Off-heap bytes of the block table alone (what a (block, pod) entry costs). */
  public long blockTableBytes() {
    return table.bytes();
  }

  /** Frees the off-heap tables. Idempotent. */
  @Override
  public void close() {
    synchronized (registry) {
      if (closed) {
        return;
      }
      closed = true;
      table.release();
      engine.release();
    }
  }

  long touchSink() {
    return touchSink;
  }

  // ------------------------------------------------------------------------------ internals

  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed() {
      super(null, null, false, false);
    }
  }

  private static final class Dropped extends Exception {
    private static final long serialVersionUID = 1L;

    Dropped() {
      super(null, null, false, false);
    }
  }

  /** A namespace as the index routes it: layout and hash seed are ignored (the contract). */
  private record NsKey(String model, String lora, String salt) {
    static NsKey of(Namespace ns) {
      return new NsKey(ns.getModelId(), ns.getLoraName(), ns.getCacheSalt());
    }

    long seed() {
      return CanonicalKeys.seed(model, lora, salt);
    }
  }

  private static final class NsState {
    final long seed;
    volatile LaneRef[] lanes = new LaneRef[0];
    volatile int keyBlockTokens;

    NsState(NsKey key) {
      this.seed = key.seed();
    }
  }

  private static final class PodState {
    final String name;
    volatile long lastSeen;

    /** Namespace → lane id; written under the registry lock. */
    final Map<NsState, Integer> lanes = new ConcurrentHashMap<>();

    PodState(String name) {
      this.name = name;
    }
  }

  private record LaneRef(int id, PodState pod) {}

  /** Per-thread buffers. */
  private static final class Scratch {
    final long[] hashBuf;
    final long[] partial;
    long[] completed = new long[8];
    final EngineKeyTable.State state = new EngineKeyTable.State();
    final BlockTable.Scratch lookup = new BlockTable.Scratch();
    final int[] laneToLocal = new int[Lanes.MAX_LANES];
    final long[] group = new long[GROUP];

    Scratch(int blockTokens) {
      hashBuf = new long[blockTokens + 1];
      partial = new long[blockTokens];
    }
  }

  /** Configures a {@link PrefixIndex}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private long capacity = 4_000_000;
    private long engineCapacity = -1;
    private int blockTokens = 16;
    private Duration podTtl = Duration.ofMinutes(5);
    private LongSupplier clock = System::nanoTime;

    private Builder() {}

    /**
     * The most (block, pod) entries held (default 4,000,000, about 21 bytes each off-heap); when
     * full the oldest are evicted and counted.
     */
    public Builder capacity(long entries) {
      if (entries < 16 || entries > (1L << 36)) {
        throw new IllegalArgumentException(
            "index capacity must be in [16, 2^36] entries, got " + entries);
      }
      this.capacity = entries;
      return this;
    }

    /**
     * The most engine-key entries (publisher key → canonical chain state), needed for events with
     * token ids (default: the capacity).
     */
    public Builder engineCapacity(long entries) {
      if (entries < 16 || entries > (1L << 36)) {
        throw new IllegalArgumentException(
            "engine key capacity must be in [16, 2^36] entries, got " + entries);
      }
      this.engineCapacity = entries;
      return this;
    }

    /** Tokens per canonical block (default 16, vLLM's default). */
    public Builder blockTokens(int tokens) {
      if (tokens < 1 || tokens > MAX_BLOCK_TOKENS) {
        throw new IllegalArgumentException(
            "index block size must be in [1, " + MAX_BLOCK_TOKENS + "] tokens, got " + tokens);
      }
      this.blockTokens = tokens;
      return this;
    }

    /**
     * How long a pod stays in scores without an event (default 5 minutes); then its entries are
     * dropped.
     */
    public Builder podTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.isNegative() || ttl.isZero()) {
        throw new IllegalArgumentException("pod TTL must be positive, got " + ttl);
      }
      this.podTtl = ttl;
      return this;
    }

    /** The clock of liveness, in nanoseconds (default {@code System::nanoTime}). */
    public Builder clock(LongSupplier nanos) {
      this.clock = Objects.requireNonNull(nanos, "clock");
      return this;
    }

    public PrefixIndex build() {
      return new PrefixIndex(this);
    }
  }
}
