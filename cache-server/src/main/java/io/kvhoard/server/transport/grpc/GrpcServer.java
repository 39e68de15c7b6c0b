package io.kvhoard.server.transport.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.kvhoard.protocol.v1.CacheServiceGrpc;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.server.index.BlockEventSink;
import io.kvhoard.server.index.EventJournal;
import io.kvhoard.server.index.Scoring;
import io.kvhoard.server.store.TieredStore;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The cache server's gRPC endpoint: {@code kvhoard.v1.CacheService} over a {@link TieredStore},
 * {@code kvhoard.v1.IndexService} over the prefix index when {@link Builder#index} is given, the
 * standard {@code grpc.health.v1} health service and server reflection (v1, and v1alpha for older
 * tools), on grpc-java's Netty transport.
 *
 * <pre>{@code
 * try (GrpcServer grpc = GrpcServer.newBuilder()
 *     .store(store)
 *     .executor(grpcExecutor)
 *     .bind("127.0.0.1", 9090)
 *     .build()
 *     .start()) {
 *   log("gRPC on " + grpc.address());
 *   ...
 * } // graceful: NOT_SERVING, drain in-flight calls within the grace period, then cancel the rest
 * }</pre>
 *
 * <p>Health: the overall status ({@code ""}) and {@code kvhoard.v1.CacheService} are {@code
 * SERVING} once {@link #start()} has bound the port and {@code NOT_SERVING} from the moment {@link
 * #close()} begins, so a load balancer stops sending before the port closes.
 *
 * <p>Ownership: the caller owns the store, the executor and any event loops it passes in, and
 * closes them after this server (the store last: in-flight calls hold its leases until they are
 * cancelled). This class starts no thread of its own; without {@link Builder#eventLoops} grpc-java
 * uses its process-wide shared Netty event loops.
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} may be called from any thread; {@code
 * close} is idempotent.
 */
public final class GrpcServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GrpcServer.class.getName());

  /** The health service's name for the cache service, as {@code grpcurl} and probes spell it. */
  public static final String CACHE_SERVICE = CacheServiceGrpc.SERVICE_NAME;

  /** The health service's name for the index service. */
  public static final String INDEX_SERVICE = IndexServiceGrpc.SERVICE_NAME;

  private final Server server;
  private final HealthStatusManager health;
  private final Duration grace;
  private final boolean indexed;
  private volatile InetSocketAddress bound;
  private boolean started; // guarded by this
  private boolean closed; // guarded by this

  private GrpcServer(Builder b, InetSocketAddress address) {
    this.grace = b.grace;
    this.health = new HealthStatusManager();
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
    health.setStatus(CACHE_SERVICE, ServingStatus.NOT_SERVING);
    this.indexed = b.scoring != null;
    if (indexed) {
      health.setStatus(INDEX_SERVICE, ServingStatus.NOT_SERVING);
    }
    NettyServerBuilder nb =
        NettyServerBuilder.forAddress(address)
            .executor(b.executor)
            .maxInboundMessageSize(b.maxInboundMessageBytes)
            .addService(
                new CacheGrpcService(b.store, b.pod, b.version, b.getChunkBytes, b.maxBlockBytes))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(reflectionV1Alpha());
    if (indexed) {
      nb.addService(new IndexGrpcService(b.scoring, b.sink, b.journal));
    }
    if (b.bossGroup != null) {
      nb.bossEventLoopGroup(b.bossGroup)
          .workerEventLoopGroup(b.workerGroup)
          .channelType(b.channelType);
    }
    this.server = nb.build();
  }

  /** grpcurl before 1.8.8 and some other tools only ask the old v1alpha reflection service. */
  @SuppressWarnings("deprecation")
  private static BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }

  /** A builder: the store and the executor are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Binds the port and starts serving; health turns {@code SERVING}.
   *
   * @return this server
   * @throws IOException if the address cannot be bound (in use, not local)
   * @throws IllegalStateException if started before, or closed
   */
  public GrpcServer start() throws IOException {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the gRPC server is closed");
      }
      if (started) {
        throw new IllegalStateException("the gRPC server is already started");
      }
      started = true;
      server.start();
      bound = (InetSocketAddress) server.getListenSockets().get(0);
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
      health.setStatus(CACHE_SERVICE, ServingStatus.SERVING);
      if (indexed) {
        health.setStatus(INDEX_SERVICE, ServingStatus.SERVING);
      }
    }
    LOG.log(Level.INFO, "gRPC control plane listening on " + bound);
    return this;
  }

  /**
   * The port bound (the ephemeral one chosen if the builder asked for port 0).
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public int port() {
    return address().getPort();
  }

  /**
   * The address bound.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public InetSocketAddress address() {
    InetSocketAddress a = bound;
    if (a == null) {
      throw new IllegalStateException("the gRPC server is not started");
    }
    return a;
  }

  /**
   * Shuts down gracefully: health turns {@code NOT_SERVING}, new calls are refused, in-flight calls
   * get the grace period to finish, and those still running then are cancelled (their leases are
   * released). Waits for all of it; an interrupt cancels at once and keeps the interrupt status.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.log(
            Level.WARNING,
            "gRPC calls still running after the grace period of " + grace + ": cancelling them");
        server.shutdownNow();
        server.awaitTermination();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Configures a {@link GrpcServer}; validates eagerly. Not thread-safe. */
  public static final class Builder {
    private TieredStore store;
    private Executor executor;
    private String host = "127.0.0.1";
    private int port;
    private Duration grace = Duration.ofSeconds(10);
    private String pod = "";
    private String version = "";
    private int getChunkBytes = 1 << 20;
    private int maxInboundMessageBytes = 4 << 20;
    private long maxBlockBytes = 256L << 20;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Class<? extends ServerChannel> channelType;
    private Scoring scoring;
    private BlockEventSink sink;
    private EventJournal journal;

    private Builder() {}

    /**
     * Serves {@code kvhoard.v1.IndexService} too: Score through {@code scoring}, Publish into
     * {@code sink} (the index and the journal), Follow from {@code journal}. Default: not served.
     */
    public Builder index(Scoring scoring, BlockEventSink sink, EventJournal journal) {
      this.scoring = Objects.requireNonNull(scoring, "scoring");
      this.sink = Objects.requireNonNull(sink, "sink");
      this.journal = Objects.requireNonNull(journal, "journal");
      return this;
    }

    /** The store the cache service serves (required); the caller closes it after the server. */
    public Builder store(TieredStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * Runs the calls (required): the service's work, store reads and writes of the host tier
     * included, happens on it. The caller shuts it down after the server.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The address and port to listen on (default 127.0.0.1, port 0: an ephemeral port, see {@link
     * #port()}). The host is an IP literal or a name resolved at {@link #build()}; {@code 0.0.0.0}
     * listens on every interface.
     */
    public Builder bind(String host, int port) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("the gRPC bind address is blank: use e.g. 127.0.0.1");
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException(
            "the gRPC port must be in [0, 65535] (0 for any free port), got " + port);
      }
      this.host = host;
      this.port = port;
      return this;
    }

    /**
     * How long {@link #close()} lets in-flight calls finish before cancelling them (default 10 s;
     * zero cancels at once).
     */
    public Builder shutdownGrace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("the shutdown grace period is negative: " + grace);
      }
      this.grace = grace;
      return this;
    }

    /** The pod name and version Stats reports (default empty). */
    public Builder identity(String pod, String version) {
      this.pod = Objects.requireNonNull(pod, "pod");
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * The size of the chunks a Get streams (default 1 MiB; at most the largest message a client
     * accepts, 4 MiB by default in grpc-java, less a header).
     */
    public Builder getChunkBytes(int bytes) {
      if (bytes < 1024 || bytes > 64 << 20) {
        throw new IllegalArgumentException(
            "getChunkBytes must be in [1 KiB, 64 MiB], got " + bytes);
      }
      this.getChunkBytes = bytes;
      return this;
    }

    /**
     * The largest message a client may send, a Put chunk above all (default 4 MiB, grpc-java's
     * default; a larger message fails with {@code RESOURCE_EXHAUSTED}).
     */
    public Builder maxInboundMessageBytes(int bytes) {
      if (bytes < 64 * 1024) {
        throw new IllegalArgumentException(
            "maxInboundMessageBytes must be at least 64 KiB, got " + bytes);
      }
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * The largest block a Put may declare (default 256 MiB: a 256-token chunk of a 70B model in
     * bf16 is 80 MiB). A Put reserves its whole length at the first chunk, so this bounds what one
     * call can hold; a larger one fails with {@code INVALID_ARGUMENT} before anything is reserved.
     */
    public Builder maxBlockBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxBlockBytes must be positive, got " + bytes);
      }
      this.maxBlockBytes = bytes;
      return this;
    }

    /**
     * Netty event loops to accept and serve connections on, shared with the data plane, and the
     * server channel type that matches them ({@code NioServerSocketChannel} for NIO loops, {@code
     * EpollServerSocketChannel} for epoll ones). The caller shuts them down after the server.
     * Default: grpc-java's shared event loops.
     */
    public Builder eventLoops(
        EventLoopGroup boss, EventLoopGroup workers, Class<? extends ServerChannel> channelType) {
      this.bossGroup = Objects.requireNonNull(boss, "boss");
      this.workerGroup = Objects.requireNonNull(workers, "workers");
      this.channelType = Objects.requireNonNull(channelType, "channelType");
      return this;
    }

    /**
     * Builds the server, not yet listening: see {@link GrpcServer#start()}.
     *
     * @throws IllegalStateException if the store or the executor is missing
     * @throws IllegalArgumentException if the bind host cannot be resolved
     */
    public GrpcServer build() {
      if (store == null) {
        throw new IllegalStateException("a gRPC server needs the tiered store it serves");
      }
      if (executor == null) {
        throw new IllegalStateException(
            "a gRPC server needs an executor for its calls (it starts no threads of its own)");
      }
      InetSocketAddress address;
      try {
        address = new InetSocketAddress(InetAddress.getByName(host), port);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(
            "the gRPC bind address '" + host + "' does not resolve: use an IP address", e);
      }
      return new GrpcServer(this, address);
    }
  }
}
