package io.kvhoard.client;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.kvhoard.client.discovery.Membership;
import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.client.discovery.ServerSource;
import io.kvhoard.client.placement.Rendezvous;
import io.kvhoard.client.transport.ConnectionPool;
import io.kvhoard.client.transport.Slot;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.Namespace;
import io.kvhoard.protocol.key.PrefixHasher;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The kvhoard client a model server links: how much of a prompt's prefix the cluster holds ({@link
 * #lookup}), that prefix's KV blocks read straight into the engine's memory ({@link #retrieve}),
 * and newly computed blocks written back ({@link #store}), by token ids.
 *
 * <p>Keys are the prompt's chained block hashes from the namespace's {@link PrefixHasher} (vLLM's
 * {@code sha256_cbor}): a Java client and a vLLM pod with the same seed name blocks alike. Each
 * block lives on the server rendezvous hashing picks among the live servers ({@link Rendezvous}); a
 * batch is split per server and the servers are read in parallel, each over several connections
 * when the batch is large.
 *
 * <p><b>Never blocks inference.</b> Every call has a deadline (the builder's, or the one passed). A
 * server that is down, stalls, or sends a block whose CRC32C does not match costs at most that
 * deadline: {@code retrieve} returns the longest contiguous prefix of blocks that arrived intact
 * (never a hole, never a byte that failed its check), the engine recomputes the rest, and the
 * failure is counted in the metrics, not thrown, unless the builder asked for {@link Builder#strict
 * strict} mode. A failed server is backed off and tried again later; a timed-out connection is
 * closed, never reused.
 *
 * <p>Example: a vLLM-like engine with Qwen3-0.6B's layout and a three-pod cluster.
 *
 * <pre>{@code
 * Namespace ns = Namespace.newBuilder()
 *     .modelId("Qwen/Qwen3-0.6B")
 *     .layout(KvLayout.of(28, 8, 128, DType.BFLOAT16, 16))   // 1.75 MiB per 16-token block
 *     .hashSeed("42")                                         // the engine's PYTHONHASHSEED
 *     .build();
 * try (KvHoardClient kv = KvHoardClient.newBuilder()
 *         .namespace(ns)
 *         .servers("10.0.0.1:7470", "10.0.0.2:7470", "10.0.0.3:7470")
 *         .deadline(Duration.ofMillis(200))
 *         .build()) {
 *   int blockBytes = (int) ns.layout().bytesPerBlock();
 *   // The engine's paged KV memory: one big direct buffer, the request's block table as pages.
 *   ByteBuffer kvPool = ByteBuffer.allocateDirect(1024 * blockBytes);
 *   int[] prompt = tokenizer.encode(text);
 *   PageTable pages = PageTable.pages(kvPool, blockBytes, blockTable(prompt));
 *
 *   RetrieveResult got = kv.retrieve(prompt, pages);          // fills the cached prefix
 *   engine.prefill(prompt, got.tokens());                     // computes tokens got.tokens()..
 *   kv.storeAsync(prompt, pages);                             // shares the new blocks
 * }
 * }</pre>
 *
 * <p>Thread-safe: one client per process is meant to be shared by every request. Each call's memory
 * must not be touched by the caller until the call (or its future) completes. {@link #close()}
 * closes every connection, the event stream, and the executors the client made itself.
 */
public final class KvHoardClient implements AutoCloseable {
  private final Namespace namespace;
  private final PrefixHasher hasher;
  private final int blockBytes;
  private final int blockTokens;
  private final Duration deadline;
  private final boolean strict;
  private final int replicas;
  private final LongSupplier ticker;
  private final Membership membership;
  private final ConnectionPool pool;
  private final Transfers transfers;
  private final ClientMetrics metrics;
  private final EventPublisher publisher; // null: no events
  private final ExecutorService ownedExecutor; // null: the caller's
  private final ScheduledExecutorService ownedScheduler; // null: the caller's or none

  private KvHoardClient(
      Builder b,
      Membership membership,
      ExecutorService ownedExecutor,
      ScheduledExecutorService ownedScheduler,
      Executor executor) {
    this.namespace = b.namespace;
    this.hasher = b.namespace.hasher();
    this.blockBytes = (int) b.namespace.layout().bytesPerBlock();
    this.blockTokens = b.namespace.layout().blockTokens();
    this.deadline = b.deadline;
    this.strict = b.strict;
    this.replicas = b.replicas;
    this.ticker = b.ticker;
    this.metrics = new ClientMetrics(b.registry != null ? b.registry : new SimpleMeterRegistry());
    this.membership = membership;
    this.pool = new ConnectionPool(FrameLimits.DEFAULT, b.alloc, b.ticker, b.connectionsPerServer);
    this.transfers =
        new Transfers(
            b.namespace.id(),
            blockBytes,
            membership,
            pool,
            executor,
            metrics,
            b.connectionsPerServer,
            b.frameBytes,
            b.framesInFlight);
    this.ownedExecutor = ownedExecutor;
    this.ownedScheduler = ownedScheduler;
    ManagedChannel owned = null;
    Channel channel = b.indexChannel;
    if (b.pod != null && channel == null) {
      owned = ManagedChannelBuilder.forTarget(b.indexTarget).usePlaintext().build();
      channel = owned;
    }
    this.publisher =
        b.pod == null
            ? null
            : new EventPublisher(b.pod, b.namespace, channel, owned, b.clock, metrics);
  }

  /** A builder; a namespace and the servers (or a discovery source) are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The namespace every key of this client is in. */
  public Namespace namespace() {
    return namespace;
  }

  /** The registry the client counts in (the builder's, or its own simple registry). */
  public MeterRegistry meterRegistry() {
    return metrics.registry();
  }

  /** The servers blocks are placed on now (known and not backed off). */
  public List<ServerAddress> liveServers() {
    return membership.live();
  }

  // ---------------------------------------------------------------------------------------------
  // lookup

  /** {@link #lookupAsync(int[], Duration)} with the default deadline, waited for. */
  public LookupResult lookup(int[] tokens) {
    return await(lookupAsync(tokens, deadline));
  }

  /** {@link #lookupAsync(int[], Duration)}, waited for. */
  public LookupResult lookup(int[] tokens, Duration timeout) {
    return await(lookupAsync(tokens, timeout));
  }

  /**
   * How many leading tokens of {@code tokens} the cluster holds, and where each leading block is.
   * Hashes the tokens on the calling thread; the servers are asked in parallel.
   */
  public CompletableFuture<LookupResult> lookupAsync(int[] tokens, Duration timeout) {
    long start = ticker.getAsLong();
    long deadlineNanos = start + checkTimeout(timeout);
    List<BlockKey> keys = hasher.hash(tokens);
    int n = keys.size();
    List<ServerAddress> live = membership.live();
    if (n == 0 || live.isEmpty()) {
      return finish(() -> lookupResult(new byte[n], null, null, n, start));
    }
    ServerAddress[] owner = new ServerAddress[n];
    Map<ServerAddress, List<Slot>> byServer = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      owner[i] = Rendezvous.owner(keys.get(i), live);
      byServer
          .computeIfAbsent(owner[i], s -> new ArrayList<>())
          .add(new Slot(i, keys.get(i), null));
    }
    byte[] codes = new byte[n];
    BlockTier[] tiers = new BlockTier[n];
    return transfers
        .run(
            Transfers.Op.CONTAINS,
            byServer,
            deadlineNanos,
            (server, i, code, tier) -> {
              codes[i] = code;
              tiers[i] = tier;
            })
        .thenApply(v -> lookupResult(codes, tiers, owner, n, start));
  }

  private LookupResult lookupResult(
      byte[] codes, BlockTier[] tiers, ServerAddress[] owner, int n, long start) {
    int prefix = prefix(codes, n);
    StopReason stop =
        owner == null
            ? (n == 0 ? StopReason.COMPLETE : StopReason.NO_SERVERS)
            : prefix == n ? StopReason.COMPLETE : Transfers.stopReason(codes[prefix]);
    List<BlockLocation> where = new ArrayList<>(prefix);
    for (int i = 0; i < prefix; i++) {
      where.add(new BlockLocation(owner[i], tiers[i]));
    }
    int[] counts = counts(codes, n);
    metrics.blocks("lookup", "held", counts[Transfers.OK]);
    metrics.blocks("lookup", "missing", counts[Transfers.MISSING]);
    metrics.blocks("lookup", "failed", n - counts[Transfers.OK] - counts[Transfers.MISSING]);
    metrics.call("lookup", stop, ticker.getAsLong() - start);
    if (strict && isFailure(stop)) {
      throw failure(stop, "lookup", prefix, n);
    }
    return new LookupResult(prefix * blockTokens, where, stop);
  }

  // ---------------------------------------------------------------------------------------------
  // retrieve

  /** {@link #retrieveAsync(int[], BlockMemory, Duration)} with the default deadline, waited for. */
  public RetrieveResult retrieve(int[] tokens, BlockMemory destination) {
    return await(retrieveAsync(tokens, destination, deadline));
  }

  /** {@link #retrieveAsync(int[], BlockMemory, Duration)}, waited for. */
  public RetrieveResult retrieve(int[] tokens, BlockMemory destination, Duration timeout) {
    return await(retrieveAsync(tokens, destination, timeout));
  }

  /**
   * Reads the cached prefix of {@code tokens} into {@code destination}: block {@code i} of the
   * prompt into {@code destination.block(i)}, for as many full blocks as the prompt and the memory
   * have. Each block's payload goes from the socket straight into its slot, then its CRC32C is
   * checked. The result counts the leading blocks that arrived intact; bytes of later slots are
   * undefined (the engine recomputes them). Do not touch {@code destination} until the future
   * completes.
   *
   * @throws IllegalArgumentException if the memory's block size is not the layout's
   */
  public CompletableFuture<RetrieveResult> retrieveAsync(
      int[] tokens, BlockMemory destination, Duration timeout) {
    checkMemory(destination);
    long start = ticker.getAsLong();
    long deadlineNanos = start + checkTimeout(timeout);
    List<BlockKey> keys = hasher.hash(tokens);
    int n = Math.min(keys.size(), destination.blocks());
    List<ServerAddress> live = membership.live();
    byte[] codes = new byte[n];
    if (n == 0 || live.isEmpty()) {
      StopReason stop = n == 0 ? StopReason.COMPLETE : StopReason.NO_SERVERS;
      return finish(() -> retrieveResult(codes, n, stop, start));
    }
    Map<ServerAddress, List<Slot>> byServer = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      ServerAddress owner = Rendezvous.owner(keys.get(i), live);
      byServer
          .computeIfAbsent(owner, s -> new ArrayList<>())
          .add(new Slot(i, keys.get(i), destination.block(i)));
    }
    return transfers
        .run(Transfers.Op.GET, byServer, deadlineNanos, (server, i, code, tier) -> codes[i] = code)
        .thenApply(v -> retrieveResult(codes, n, null, start));
  }

  private RetrieveResult retrieveResult(byte[] codes, int n, StopReason given, long start) {
    int prefix = prefix(codes, n);
    StopReason stop =
        given != null
            ? given
            : prefix == n ? StopReason.COMPLETE : Transfers.stopReason(codes[prefix]);
    int[] counts = counts(codes, n);
    metrics.blocks("retrieve", "hit", counts[Transfers.OK]);
    metrics.blocks("retrieve", "miss", counts[Transfers.MISSING]);
    metrics.blocks("retrieve", "corrupt", counts[Transfers.CORRUPT]);
    metrics.blocks("retrieve", "timeout", counts[Transfers.TIMEOUT]);
    metrics.blocks(
        "retrieve",
        "failed",
        counts[Transfers.FAILED] + counts[Transfers.REFUSED] + (given != null ? n : 0));
    metrics.bytes("retrieve", (long) prefix * blockBytes);
    metrics.call("retrieve", stop, ticker.getAsLong() - start);
    if (strict && isFailure(stop)) {
      throw failure(stop, "retrieve", prefix, n);
    }
    return new RetrieveResult(prefix * blockTokens, prefix, stop);
  }

  // ---------------------------------------------------------------------------------------------
  // store

  /** {@link #storeAsync(int[], BlockMemory, Duration)} with the default deadline, waited for. */
  public StoreResult store(int[] tokens, BlockMemory source) {
    return await(storeAsync(tokens, source, deadline));
  }

  /** {@link #storeAsync(int[], BlockMemory, Duration)}, waited for. */
  public StoreResult store(int[] tokens, BlockMemory source, Duration timeout) {
    return await(storeAsync(tokens, source, timeout));
  }

  /** {@link #storeAsync(int[], BlockMemory, Duration)} with the default deadline. */
  public CompletableFuture<StoreResult> storeAsync(int[] tokens, BlockMemory source) {
    return storeAsync(tokens, source, deadline);
  }

  /**
   * Writes the full blocks of {@code tokens} that the cluster does not hold yet, from {@code
   * source} (block {@code i} from {@code source.block(i)}), to each block's server (and replicas):
   * first asks which are held, then sends only the others. Publishes a {@code BlockStored} event
   * for each run of blocks it wrote, if events are on. Do not change {@code source}'s blocks until
   * the future completes.
   */
  public CompletableFuture<StoreResult> storeAsync(
      int[] tokens, BlockMemory source, Duration timeout) {
    checkMemory(source);
    long start = ticker.getAsLong();
    long deadlineNanos = start + checkTimeout(timeout);
    List<BlockKey> keys = hasher.hash(tokens);
    int n = Math.min(keys.size(), source.blocks());
    List<ServerAddress> live = membership.live();
    if (n == 0 || live.isEmpty()) {
      StopReason stop = n == 0 ? StopReason.COMPLETE : StopReason.NO_SERVERS;
      return finish(() -> storeResult(n, 0, 0, stop, start));
    }
    List<List<ServerAddress>> targets = new ArrayList<>(n);
    Map<ServerAddress, List<Slot>> byServer = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      List<ServerAddress> t = Rendezvous.rank(keys.get(i), live, replicas);
      targets.add(t);
      for (ServerAddress s : t) {
        byServer.computeIfAbsent(s, x -> new ArrayList<>()).add(new Slot(i, keys.get(i), null));
      }
    }
    Map<ServerAddress, byte[]> held = codesPerServer(byServer.keySet(), n);
    Map<ServerAddress, byte[]> put = codesPerServer(byServer.keySet(), n);
    BlockTier[] tiers = new BlockTier[n];
    return transfers
        .run(
            Transfers.Op.CONTAINS,
            byServer,
            deadlineNanos,
            (server, i, code, tier) -> held.get(server)[i] = code)
        .thenCompose(
            v -> {
              Map<ServerAddress, List<Slot>> missing = new LinkedHashMap<>();
              for (Map.Entry<ServerAddress, List<Slot>> e : byServer.entrySet()) {
                byte[] h = held.get(e.getKey());
                for (Slot s : e.getValue()) {
                  if (h[s.index()] == Transfers.MISSING) {
                    missing
                        .computeIfAbsent(e.getKey(), x -> new ArrayList<>())
                        .add(new Slot(s.index(), s.key(), source.block(s.index())));
                  }
                }
              }
              return transfers.run(
                  Transfers.Op.PUT,
                  missing,
                  deadlineNanos,
                  (server, i, code, tier) -> {
                    put.get(server)[i] = code;
                    if (code == Transfers.OK) {
                      tiers[i] = tier; // several replicas: any of their tiers will do
                    }
                  });
            })
        .thenApply(v -> storeOutcome(tokens, keys, n, targets, held, put, tiers, start));
  }

  private StoreResult storeOutcome(
      int[] tokens,
      List<BlockKey> keys,
      int n,
      List<List<ServerAddress>> targets,
      Map<ServerAddress, byte[]> held,
      Map<ServerAddress, byte[]> put,
      BlockTier[] tiers,
      long start) {
    boolean[] wrote = new boolean[n];
    int written = 0;
    int cached = 0;
    StopReason stop = StopReason.COMPLETE;
    for (int i = 0; i < n; i++) {
      boolean present = false;
      byte firstFailure = Transfers.FAILED;
      boolean failureSeen = false;
      for (ServerAddress s : targets.get(i)) {
        byte h = held.get(s)[i];
        byte p = put.get(s)[i];
        if (p == Transfers.OK) {
          wrote[i] = true;
        }
        if (h == Transfers.OK || p == Transfers.OK || p == Transfers.EXISTS) {
          present = true;
        } else if (!failureSeen) {
          failureSeen = true;
          firstFailure = h != Transfers.MISSING ? h : p;
        }
      }
      if (wrote[i]) {
        written++;
      } else if (present) {
        cached++;
      } else if (stop == StopReason.COMPLETE) {
        stop = Transfers.stopReason(firstFailure);
        if (stop == StopReason.MISS) {
          stop = StopReason.SERVER_FAILED; // a put that was refused
        }
      }
    }
    if (publisher != null) {
      for (int i = 0; i < n; ) {
        if (!wrote[i]) {
          i++;
          continue;
        }
        int from = i;
        while (i < n && wrote[i]) {
          i++;
        }
        BlockTier tier = tiers[from] == null ? BlockTier.UNKNOWN : tiers[from];
        publisher.stored(keys, from, i, tokens, blockTokens, tier);
      }
    }
    metrics.bytes("store", (long) written * blockBytes);
    return storeResult(n, written, cached, stop, start);
  }

  private StoreResult storeResult(int n, int written, int cached, StopReason stop, long start) {
    metrics.blocks("store", "written", written);
    metrics.blocks("store", "cached", cached);
    metrics.blocks("store", "failed", n - written - cached);
    metrics.call("store", stop, ticker.getAsLong() - start);
    if (strict && isFailure(stop)) {
      throw failure(stop, "store", written + cached, n);
    }
    return new StoreResult(n, written, cached, stop);
  }

  // ---------------------------------------------------------------------------------------------

  private static Map<ServerAddress, byte[]> codesPerServer(Iterable<ServerAddress> servers, int n) {
    Map<ServerAddress, byte[]> m = new LinkedHashMap<>();
    for (ServerAddress s : servers) {
      m.put(s, new byte[n]);
    }
    return m;
  }

  /** The leading blocks whose code is OK. */
  static int prefix(byte[] codes, int n) {
    int i = 0;
    while (i < n && codes[i] == Transfers.OK) {
      i++;
    }
    return i;
  }

  private static int[] counts(byte[] codes, int n) {
    int[] c = new int[Transfers.FAILED + 1];
    for (int i = 0; i < n; i++) {
      c[codes[i]]++;
    }
    return c;
  }

  private static boolean isFailure(StopReason stop) {
    return stop != StopReason.COMPLETE && stop != StopReason.MISS;
  }

  private static KvHoardException failure(StopReason stop, String op, int done, int of) {
    String what = op + " did " + done + " of " + of + " blocks: ";
    return switch (stop) {
      case TIMEOUT -> new DeadlineExceededException(what + "the deadline passed");
      case CORRUPT -> new CorruptBlockException(what + "a block failed its CRC32C check");
      case NO_SERVERS -> new ServerUnavailableException(what + "no server is live");
      default -> new ServerUnavailableException(what + "a server failed");
    };
  }

  /** A completed future with the result {@code make} builds, or failed with its exception. */
  private static <T> CompletableFuture<T> finish(java.util.function.Supplier<T> make) {
    try {
      return CompletableFuture.completedFuture(make.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void checkMemory(BlockMemory memory) {
    Objects.requireNonNull(memory, "memory");
    if (memory.blockBytes() != blockBytes) {
      throw new IllegalArgumentException(
          "the memory's blocks are "
              + memory.blockBytes()
              + " bytes, but the layout's are "
              + blockBytes
              + " ("
              + namespace.layout()
              + ")");
    }
  }

  private static long checkTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("a deadline must be positive, got " + timeout);
    }
    return timeout.toNanos();
  }

  /**
   * Waits for a call's future; its own exceptions (strict mode, misuse) are rethrown as they are.
   */
  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KvHoardException("interrupted while waiting for a kvhoard call", false, e);
    }
  }

  private static RuntimeException unwrap(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (c instanceof RuntimeException r) {
      return r;
    }
    return new KvHoardException("a kvhoard call failed: " + c, false, c);
  }

  /**
   * Closes the event stream, the connections, and the executors the client made itself (not the
   * ones the builder was given). Every part is closed even if one fails. Calls in flight fail their
   * remaining blocks.
   */
  @Override
  public void close() {
    List<Runnable> steps = new ArrayList<>();
    if (publisher != null) {
      steps.add(publisher::close);
    }
    steps.add(membership::close);
    steps.add(pool::close);
    if (ownedExecutor != null) {
      steps.add(() -> shutdown(ownedExecutor));
    }
    if (ownedScheduler != null) {
      steps.add(() -> shutdown(ownedScheduler));
    }
    RuntimeException first = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void shutdown(ExecutorService e) {
    e.shutdown();
    try {
      if (!e.awaitTermination(2, TimeUnit.SECONDS)) {
        e.shutdownNow();
      }
    } catch (InterruptedException ie) {
      e.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "KvHoardClient{" + namespace + ", servers=" + membership.known() + '}';
  }

  /**
   * Builds a {@link KvHoardClient}; every setter validates its argument at once and {@link
   * #build()} checks that the required ones were given. Not thread-safe.
   */
  public static final class Builder {
    private Namespace namespace;
    private ServerSource source;
    private boolean staticList;
    private Duration refresh = Duration.ofSeconds(30);
    private Duration initialBackoff = Duration.ofMillis(500);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private Duration deadline = Duration.ofSeconds(2);
    private int connectionsPerServer = 4;
    private long frameBytes = 2L << 20;
    private int framesInFlight = 2;
    private int replicas = 1;
    private boolean strict;
    private Executor executor;
    private ScheduledExecutorService scheduler;
    private MeterRegistry registry;
    private ByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
    private LongSupplier ticker = System::nanoTime;
    private Clock clock = Clock.systemUTC();
    private String pod;
    private String indexTarget;
    private Channel indexChannel;

    private Builder() {}

    /** The namespace (model, KV layout, seed, salt, LoRA) of every block. Required. */
    public Builder namespace(Namespace namespace) {
      this.namespace = Objects.requireNonNull(namespace, "namespace");
      if (namespace.layout().bytesPerBlock() > Integer.MAX_VALUE - 4096) {
        throw new IllegalArgumentException(
            "blocks of " + namespace.layout().bytesPerBlock() + " bytes do not fit one buffer");
      }
      return this;
    }

    /** A static list of servers, each {@code host:port} (their data-plane port). */
    public Builder servers(String... hostPorts) {
      List<ServerAddress> list = new ArrayList<>();
      for (String s : hostPorts) {
        list.add(ServerAddress.parse(s));
      }
      return servers(list);
    }

    /** A static list of servers. */
    public Builder servers(List<ServerAddress> servers) {
      this.source = ServerSource.of(servers);
      this.staticList = true;
      return this;
    }

    /**
     * Where the servers come from (e.g. {@link io.kvhoard.client.discovery.DnsServerSource}), asked
     * again every {@link #refreshInterval}. Replaces {@link #servers}.
     */
    public Builder discovery(ServerSource source) {
      this.source = Objects.requireNonNull(source, "source");
      this.staticList = false;
      return this;
    }

    /** How often the discovery source is asked again (default 30 s). */
    public Builder refreshInterval(Duration refresh) {
      this.refresh = positive("refreshInterval", refresh);
      return this;
    }

    /**
     * How long a failed server is left out: {@code initial} after its first failure, doubling per
     * further failure up to {@code max} (defaults 500 ms and 30 s).
     */
    public Builder backoff(Duration initial, Duration max) {
      positive("initial backoff", initial);
      positive("max backoff", max);
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "max backoff " + max + " is shorter than the initial " + initial);
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** The deadline of calls that do not pass their own (default 2 s). */
    public Builder deadline(Duration deadline) {
      this.deadline = positive("deadline", deadline);
      return this;
    }

    /** Most connections per server one batch uses in parallel (default 4). */
    public Builder connectionsPerServer(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("connectionsPerServer must be in [1, 64], got " + n);
      }
      this.connectionsPerServer = n;
      return this;
    }

    /**
     * Payload bytes per data-plane frame a batch aims at (default 2 MiB; at least one block).
     * Frames are pipelined, so small ones cost no round trips; large ones make the server buffer a
     * whole PUT frame and let payloads leave the CPU caches before their CRC32C is checked.
     */
    public Builder frameBytes(long bytes) {
      if (bytes < 4096 || bytes > FrameLimits.DEFAULT.maxFrameBytes()) {
        throw new IllegalArgumentException(
            "frameBytes must be in [4096, "
                + FrameLimits.DEFAULT.maxFrameBytes()
                + "], got "
                + bytes);
      }
      this.frameBytes = bytes;
      return this;
    }

    /**
     * Most data-plane frames one connection has unanswered at a time (default 2): one being read,
     * one the server is sending. More lets responses wait in the socket buffers, long enough to
     * leave the CPU's caches before they are copied into the destination.
     */
    public Builder framesInFlight(int frames) {
      if (frames < 1 || frames > 1024) {
        throw new IllegalArgumentException("framesInFlight must be in [1, 1024], got " + frames);
      }
      this.framesInFlight = frames;
      return this;
    }

    /** Servers each stored block is written to (default 1); reads use the first live one. */
    public Builder replicas(int replicas) {
      if (replicas < 1 || replicas > 8) {
        throw new IllegalArgumentException("replicas must be in [1, 8], got " + replicas);
      }
      this.replicas = replicas;
      return this;
    }

    /**
     * Strict mode: a call whose server failed, timed out or sent a corrupt block throws a {@link
     * KvHoardException} instead of returning the shorter prefix. Off by default: inference should
     * recompute, not fail.
     */
    public Builder strict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /**
     * Runs the per-server transfers (each blocks a thread for its duration). Default: a cached pool
     * of daemon threads the client owns and shuts down on close.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Runs the periodic re-resolution. Default: one daemon thread the client owns. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Where failures, bytes and latencies are counted. Default: a private simple registry. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Allocates frame headers and descriptors (small). Default: unpooled heap buffers. */
    public Builder allocator(ByteBufAllocator alloc) {
      this.alloc = Objects.requireNonNull(alloc, "alloc");
      return this;
    }

    /** Monotonic nanoseconds for deadlines and backoff. Default {@code System::nanoTime}. */
    public Builder ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Wall clock for event timestamps. Default UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Publishes BlockStored events for what this client stores, as pod {@code pod}, to the index
     * service at gRPC target {@code target} (e.g. {@code dns:///kvhoard-index:7471}, plaintext).
     */
    public Builder events(String pod, String target) {
      this.pod = requireText("pod", pod);
      this.indexTarget = requireText("target", target);
      this.indexChannel = null;
      return this;
    }

    /** Publishes events on a channel the caller owns (and closes). */
    public Builder events(String pod, Channel channel) {
      this.pod = requireText("pod", pod);
      this.indexChannel = Objects.requireNonNull(channel, "channel");
      this.indexTarget = null;
      return this;
    }

    /**
     * Builds the client: resolves the servers once (connections open on first use).
     *
     * @throws IllegalStateException if the namespace or the servers are missing
     * @throws ServerUnavailableException if discovery finds no server
     */
    public KvHoardClient build() {
      if (namespace == null) {
        throw new IllegalStateException("a namespace is required: namespace(Namespace)");
      }
      if (source == null) {
        throw new IllegalStateException(
            "servers are required: servers(\"host:port\", ...) or discovery(ServerSource)");
      }
      ScheduledExecutorService ownedScheduler = null;
      ScheduledExecutorService sched = scheduler;
      boolean isStatic = staticList;
      if (sched == null && !isStatic) {
        ownedScheduler = Executors.newSingleThreadScheduledExecutor(daemon("kvhoard-discovery"));
        sched = ownedScheduler;
      }
      ExecutorService ownedExecutor = null;
      Executor exec = executor;
      if (exec == null) {
        ownedExecutor = Executors.newCachedThreadPool(daemon("kvhoard-client"));
        exec = ownedExecutor;
      }
      try {
        Membership m =
            new Membership(
                source, refresh, initialBackoff, maxBackoff, ticker, isStatic ? null : sched);
        return new KvHoardClient(this, m, ownedExecutor, ownedScheduler, exec);
      } catch (IOException | RuntimeException e) {
        if (ownedExecutor != null) {
          ownedExecutor.shutdownNow();
        }
        if (ownedScheduler != null) {
          ownedScheduler.shutdownNow();
        }
        if (e instanceof RuntimeException r) {
          throw r;
        }
        throw new ServerUnavailableException("cannot find the servers: " + e.getMessage());
      }
    }

    private static ThreadFactory daemon(String prefix) {
      AtomicInteger n = new AtomicInteger();
      return r -> {
        Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }

    private static String requireText(String name, String s) {
      Objects.requireNonNull(s, name);
      if (s.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank");
      }
      return s;
    }
  }
}
