package io.kvhoard.server;

import io.kvhoard.server.config.IndexSettings;
import io.kvhoard.server.config.ServerConfig;
import io.kvhoard.server.config.Values;
import io.kvhoard.server.index.BlockEventSink;
import io.kvhoard.server.index.EventJournal;
import io.kvhoard.server.index.PrefixIndex;
import io.kvhoard.server.index.Scorer;
import io.kvhoard.server.index.Scoring;
import io.kvhoard.server.index.vllm.VllmEventSource;
import io.kvhoard.server.metrics.IndexMetrics;
import io.kvhoard.server.metrics.StoreMetrics;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreStats;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.disk.DiskTier;
import io.kvhoard.server.store.host.HostTier;
import io.kvhoard.server.transport.data.DataPlaneMetrics;
import io.kvhoard.server.transport.data.DataPlaneServer;
import io.kvhoard.server.transport.grpc.GrpcServer;
import io.kvhoard.server.transport.http.HttpServer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One cache server: the tiered store (host RAM, optionally disk, the block directory), the prefix
 * index and the block-event sources that feed it (vLLM pods' KV events, {@code --vllm-events}), the
 * data plane, the gRPC control plane and the HTTP endpoint, started from a {@link ServerConfig} and
 * stopped in a fixed order. What {@code kvhoard serve} runs; tests start it in-process.
 *
 * <p>Shutdown ({@link #close()}, also from the SIGTERM hook {@code serve} installs): readiness goes
 * false, the event sources stop, the data plane stops accepting and drains in-flight requests
 * within the grace period, the event loops stop, then the store closes its tiers hottest first and
 * the directory last (the disk tier flushes, so it reopens cleanly).
 */
public final class KvHoardServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(KvHoardServer.class.getName());

  private final ServerConfig config;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private volatile boolean ready;
  private TieredStore store;
  private ExecutorService storeExecutor;
  private ExecutorService diskIo;
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private DataPlaneServer dataPlane;
  private HttpServer http;
  private GrpcServer grpc;
  private ExecutorService grpcExecutor;
  private InetSocketAddress grpcAddress;
  private InetSocketAddress dataAddress;
  private InetSocketAddress httpAddress;
  private PrefixIndex index;
  private EventJournal journal;
  private BlockEventSink eventSink;
  private VllmEventSource vllmEvents;
  private ExecutorService eventExecutor;

  private KvHoardServer(ServerConfig config) {
    this.config = config;
  }

  /**
   * Opens the store and binds every port.
   *
   * @throws StoreException if a tier or the directory cannot be opened
   * @throws IOException if a port cannot be bound or the data directory created
   */
  public static KvHoardServer start(ServerConfig config) throws StoreException, IOException {
    KvHoardServer s = new KvHoardServer(config);
    try {
      s.open();
      return s;
    } catch (StoreException | IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void open() throws StoreException, IOException {
    Files.createDirectories(config.dataDir());
    int cpus = Runtime.getRuntime().availableProcessors();
    storeExecutor =
        Executors.newFixedThreadPool(
            Math.max(2, cpus / 2), new DefaultThreadFactory("kvhoard-store", true));
    HostTier host =
        HostTier.newBuilder()
            .capacityBytes(config.hostCapacity())
            .pageSize(config.pageSize())
            .pretouch(config.hostPretouch())
            .build();
    TieredStore.Builder b = TieredStore.newBuilder().tier(host);
    DiskTier disk = null;
    BlockDirectory directory = null;
    try {
      if (config.diskCapacity() > 0) {
        diskIo =
            Executors.newFixedThreadPool(
                Math.max(2, cpus), new DefaultThreadFactory("kvhoard-disk", true));
        disk =
            DiskTier.newBuilder()
                .directory(config.diskDirectory())
                .capacityBytes(config.diskCapacity())
                .executor(diskIo)
                .build();
        b.tier(disk);
      }
      directory = BlockDirectory.persisted(config.directoryFile(), config.directoryEntries());
      store =
          b.directory(directory).executor(storeExecutor).blockTokens(config.blockTokens()).build();
    } catch (StoreException | RuntimeException e) {
      host.close();
      if (disk != null) {
        disk.close();
      }
      if (directory != null) {
        directory.close();
      }
      throw e;
    }
    LOG.log(
        Level.INFO,
        "store: host tier "
            + Values.formatSize(config.hostCapacity())
            + (disk != null
                ? ", disk tier "
                    + Values.formatSize(config.diskCapacity())
                    + " in "
                    + config.diskDirectory()
                    + (disk.directIo() ? " (direct I/O)" : " (buffered I/O)")
                : ", no disk tier")
            + ", directory "
            + config.directoryFile()
            + " ("
            + directory.size()
            + " blocks)");

    new StoreMetrics(store).bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    DataPlaneMetrics dataMetrics = new DataPlaneMetrics(registry);
    Scoring scoring = openIndex();

    boolean epoll = DataPlaneServer.epoll();
    var factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("kvhoard-accept"), factory);
    workers =
        new MultiThreadIoEventLoopGroup(
            config.ioThreads() == 0 ? Math.max(4, 2 * cpus) : config.ioThreads(),
            new DefaultThreadFactory("kvhoard-io"),
            factory);
    dataPlane =
        DataPlaneServer.newBuilder()
            .store(store)
            .metrics(dataMetrics)
            .eventLoops(boss, workers, epoll)
            .bind(config.bind(), config.dataPort())
            .maxFrameBytes(config.maxFrame())
            .sendBuffer(config.sendBuffer())
            .inflightLimits(config.connectionInflight(), config.globalInflight())
            .blockTokens(config.blockTokens())
            .timeouts(config.requestTimeout(), config.idleTimeout(), config.shutdownGrace())
            .build();
    registry.gauge(
        "kvhoard.data.inflight.bytes", java.util.List.of(), this, s -> s.inflightBytes());
    try {
      dataAddress = dataPlane.start();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding the data plane", e);
    }
    grpcExecutor =
        Executors.newFixedThreadPool(
            Math.max(2, cpus), new DefaultThreadFactory("kvhoard-grpc", true));
    grpc =
        GrpcServer.newBuilder()
            .store(store)
            .executor(grpcExecutor)
            .bind(config.bind(), config.grpcPort())
            .shutdownGrace(config.shutdownGrace())
            .identity(
                System.getenv().getOrDefault("HOSTNAME", ""),
                String.valueOf(KvHoardServer.class.getPackage().getImplementationVersion()))
            .eventLoops(
                boss,
                workers,
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
            .index(scoring, eventSink, journal)
            .build();
    grpc.start();
    grpcAddress = grpc.address();
    Map<String, Supplier<String>> pages = new LinkedHashMap<>();
    pages.put("/metrics", registry::scrape);
    pages.put("/stats", () -> statsJson(store.stats()));
    http = new HttpServer(pages, () -> ready, scoring);
    httpAddress = http.start(boss, workers, epoll, config.bind(), config.httpPort());
    startEventSources();
    ready = true;
    LOG.log(
        Level.INFO,
        "kvhoard ready: data " + dataAddress + ", grpc " + grpcAddress + ", http " + httpAddress);
  }

  /** The prefix index, its follow journal, the sink both take events from, and the scorer. */
  private Scoring openIndex() throws IOException {
    IndexSettings is = config.index();
    try {
      index =
          PrefixIndex.newBuilder()
              .capacity(is.capacity())
              .blockTokens(is.blockTokens())
              .podTtl(is.podTtl())
              .build();
    } catch (OutOfMemoryError e) {
      throw new IOException(
          "the prefix index of "
              + is.capacity()
              + " entries does not fit this JVM's direct memory ("
              + e.getMessage()
              + "): lower --index-capacity or raise -XX:MaxDirectMemorySize (default: -Xmx)",
          e);
    }
    journal = new EventJournal(4096);
    PrefixIndex idx = index;
    EventJournal j = journal;
    eventSink =
        e -> {
          j.accept(e);
          idx.accept(e);
        };
    Scorer scorer =
        Scorer.newBuilder()
            .tierWeights(is.gpuWeight(), is.hostWeight(), is.diskWeight())
            .loadUnitSeconds(is.loadUnitSeconds())
            .build();
    IndexMetrics metrics = new IndexMetrics(index, registry);
    LOG.log(
        Level.INFO,
        "prefix index: "
            + is.capacity()
            + " entries ("
            + Values.formatSize(index.stats().offHeapBytes())
            + " off-heap), blocks of "
            + is.blockTokens()
            + " tokens, pod TTL "
            + is.podTtl());
    return new Scoring(index, scorer, metrics::recordScore);
  }

  /** The prefix index this server owns. */
  public PrefixIndex index() {
    return index;
  }

  /**
   * Where event sources deliver block events (the vLLM source, gRPC Publish): the index and the
   * follow journal.
   */
  public BlockEventSink eventSink() {
    return eventSink;
  }

  /** Follows the configured vLLM pods' KV events into {@link #eventSink()}. */
  private void startEventSources() {
    if (config.vllmEvents().isEmpty()) {
      return;
    }
    eventExecutor =
        Executors.newSingleThreadExecutor(new DefaultThreadFactory("kvhoard-vllm-events", true));
    vllmEvents =
        VllmEventSource.newBuilder()
            .endpoints(config.vllmEvents())
            .sink(eventSink)
            .registry(registry)
            .executor(eventExecutor)
            .replayTimeout(config.vllmReplayTimeout())
            .build()
            .start();
  }

  /** Where the data plane listens. */
  public InetSocketAddress dataAddress() {
    return dataAddress;
  }

  /** Where the gRPC control plane listens. */
  public InetSocketAddress grpcAddress() {
    return grpcAddress;
  }

  /** Where the HTTP endpoint listens. */
  public InetSocketAddress httpAddress() {
    return httpAddress;
  }

  /** Request bytes the data plane holds in flight now. */
  public long inflightBytes() {
    DataPlaneServer d = dataPlane;
    return d == null ? 0 : d.inflightBytes();
  }

  public TieredStore store() {
    return store;
  }

  public ServerConfig config() {
    return config;
  }

  /** Whether the tiers are open and the ports bound (what {@code /readyz} reports). */
  public boolean ready() {
    return ready;
  }

  /** The store's statistics as one JSON object (what {@code /stats} serves). */
  static String statsJson(StoreStats s) {
    StringBuilder b = new StringBuilder("{\"tiers\":[");
    for (int i = 0; i < s.tiers().size(); i++) {
      StoreStats.TierStats t = s.tiers().get(i);
      if (i > 0) {
        b.append(',');
      }
      b.append(
          String.format(
              Locale.ROOT,
              "{\"tier\":\"%s\",\"capacity_bytes\":%d,\"used_bytes\":%d,\"blocks\":%d,"
                  + "\"hits\":%d,\"evictions\":%d,\"demotions\":%d,\"promotions\":%d,"
                  + "\"read_failures\":%d}",
              t.kind().name().toLowerCase(Locale.ROOT),
              t.capacityBytes(),
              t.usedBytes(),
              t.blocks(),
              t.hits(),
              t.evictions(),
              t.demotions(),
              t.promotions(),
              t.readFailures()));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "],\"misses\":%d,\"puts\":%d,\"duplicate_puts\":%d,\"conflicting_puts\":%d,"
                + "\"deletes\":%d,\"directory_entries\":%d,\"directory_bytes\":%d}",
            s.misses(),
            s.puts(),
            s.duplicatePuts(),
            s.conflictingPuts(),
            s.deletes(),
            s.directoryEntries(),
            s.directoryBytes()));
    return b.append('\n').toString();
  }

  /** Stops in the documented order; every part is closed even if one fails. Idempotent. */
  @Override
  public synchronized void close() {
    ready = false;
    if (vllmEvents != null) {
      vllmEvents.close();
      vllmEvents = null;
    }
    if (dataPlane != null) {
      dataPlane.close();
      dataPlane = null;
    }
    if (grpc != null) {
      grpc.close();
      grpc = null;
    }
    if (http != null) {
      http.close();
      http = null;
    }
    for (EventLoopGroup g : new EventLoopGroup[] {boss, workers}) {
      if (g != null) {
        g.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
      }
    }
    boss = null;
    workers = null;
    if (index != null) {
      index.close();
      index = null;
    }
    if (store != null) {
      try {
        store.close();
      } catch (StoreException | RuntimeException e) {
        LOG.log(Level.ERROR, "closing the store failed: " + e.getMessage(), e);
      }
      store = null;
    }
    for (ExecutorService ex :
        new ExecutorService[] {eventExecutor, grpcExecutor, storeExecutor, diskIo}) {
      if (ex != null) {
        ex.shutdown();
        try {
          ex.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    eventExecutor = null;
    grpcExecutor = null;
    storeExecutor = null;
    diskIo = null;
    registry.close();
    LOG.log(Level.INFO, "kvhoard stopped");
  }
}
