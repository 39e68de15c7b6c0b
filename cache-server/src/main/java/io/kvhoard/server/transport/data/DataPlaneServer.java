package io.kvhoard.server.transport.data;

import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.server.store.TieredStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The data-plane server: the frame protocol ({@code protocol/PROTOCOL.md}) on Netty over a {@link
 * TieredStore}. The event loops are the caller's (epoll ones if {@link #epoll()} says so, NIO
 * otherwise); this class binds, serves and, on {@link #close()}, stops accepting, lets in-flight
 * requests finish within the grace period and closes every connection.
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} from any thread, once each.
 */
public final class DataPlaneServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DataPlaneServer.class.getName());

  private final Builder b;
  private final InflightBudget global;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private Channel serverChannel;

  private DataPlaneServer(Builder b) {
    this.b = b;
    this.global =
        new InflightBudget(
            b.globalInflight,
            ch -> {
              DataPlaneHandler h = ch.pipeline().get(DataPlaneHandler.class);
              if (h != null) {
                h.resume(ch.pipeline().context(h));
              }
            });
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** Whether the native epoll transport is available (else the groups should be NIO ones). */
  public static boolean epoll() {
    return Epoll.isAvailable();
  }

  /**
   * Binds and starts accepting.
   *
   * @return the bound address (the real port when 0 was asked)
   * @throws InterruptedException if interrupted while binding
   * @throws java.io.IOException if the address cannot be bound (in use, not local)
   */
  public InetSocketAddress start() throws InterruptedException, java.io.IOException {
    Class<? extends ServerChannel> channelClass =
        b.epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    FrameLimits limits = new FrameLimits(b.maxFrameBytes, FrameLimits.DEFAULT.maxBlocksPerFrame());
    ServerBootstrap boot =
        new ServerBootstrap()
            .group(b.boss, b.workers)
            .channel(channelClass)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true);
    if (b.sendBuffer > 0) {
      boot.childOption(ChannelOption.SO_SNDBUF, b.sendBuffer);
    }
    boot.childHandler(
        new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            FrameProgress progress = new FrameProgress();
            ch.pipeline()
                .addLast(
                    new IdleStateHandler(0, 0, b.idleTimeout.toMillis(), TimeUnit.MILLISECONDS))
                .addLast(progress)
                .addLast(FrameCodec.newDecoder(limits))
                .addLast(FrameCodec.newEncoder())
                .addLast(
                    new DataPlaneHandler(
                        b.store,
                        b.metrics,
                        global,
                        limits,
                        b.connectionInflight,
                        b.blockTokens,
                        b.requestTimeout.toNanos(),
                        progress));
          }
        });
    var bind = boot.bind(b.bind, b.port).await();
    if (!bind.isSuccess()) {
      throw new java.io.IOException(
          "data plane: cannot listen on "
              + b.bind
              + ":"
              + b.port
              + ": "
              + bind.cause().getMessage(),
          bind.cause());
    }
    serverChannel = bind.channel();
    InetSocketAddress at = (InetSocketAddress) serverChannel.localAddress();
    LOG.log(
        Level.INFO,
        "data plane listening on "
            + at.getHostString()
            + ":"
            + at.getPort()
            + " ("
            + (b.epoll ? "epoll" : "nio")
            + ", frames up to "
            + b.maxFrameBytes
            + " bytes)");
    return at;
  }

  /** Request bytes in flight over all connections. */
  public long inflightBytes() {
    return global.used();
  }

  /** Open connections. */
  public int connections() {
    return connections.size();
  }

  /**
   * Stops accepting, waits up to the grace period for in-flight requests to be answered, then
   * closes every connection. Idempotent.
   */
  @Override
  public void close() {
    if (serverChannel == null) {
      return;
    }
    serverChannel.close().awaitUninterruptibly();
    long deadline = System.nanoTime() + b.shutdownGrace.toNanos();
    while (global.used() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (global.used() > 0) {
      LOG.log(
          Level.WARNING,
          "data plane: closing with " + global.used() + " request bytes still in flight");
    }
    connections.close().awaitUninterruptibly();
    serverChannel = null;
  }

  /** Configures a {@link DataPlaneServer}. */
  public static final class Builder {
    private TieredStore store;
    private DataPlaneMetrics metrics;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private boolean epoll;
    private String bind = "127.0.0.1";
    private int port;
    private int maxFrameBytes = FrameLimits.DEFAULT.maxFrameBytes();
    private long connectionInflight = 512L << 20;
    private long globalInflight = 2L << 30;
    private int blockTokens = 16;
    private int sendBuffer;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration shutdownGrace = Duration.ofSeconds(10);

    private Builder() {}

    public Builder store(TieredStore store) {
      this.store = Objects.requireNonNull(store);
      return this;
    }

    public Builder metrics(DataPlaneMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics);
      return this;
    }

    /** The caller's event loops: epoll ones when {@code epoll} is true, NIO ones otherwise. */
    public Builder eventLoops(EventLoopGroup boss, EventLoopGroup workers, boolean epoll) {
      this.boss = Objects.requireNonNull(boss);
      this.workers = Objects.requireNonNull(workers);
      this.epoll = epoll;
      return this;
    }

    public Builder bind(String address, int port) {
      this.bind = Objects.requireNonNull(address);
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder maxFrameBytes(int bytes) {
      this.maxFrameBytes = bytes;
      return this;
    }

    public Builder inflightLimits(long perConnection, long global) {
      if (perConnection < 1 || global < 1) {
        throw new IllegalArgumentException("in-flight limits must be positive");
      }
      this.connectionInflight = perConnection;
      this.globalInflight = global;
      return this;
    }

    /** SO_SNDBUF of each connection in bytes; 0 (the default) leaves it to the kernel. */
    public Builder sendBuffer(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("send buffer must be >= 0, got " + bytes);
      }
      this.sendBuffer = bytes;
      return this;
    }

    public Builder blockTokens(int tokens) {
      this.blockTokens = tokens;
      return this;
    }

    public Builder timeouts(Duration request, Duration idle, Duration shutdownGrace) {
      this.requestTimeout = Objects.requireNonNull(request);
      this.idleTimeout = Objects.requireNonNull(idle);
      this.shutdownGrace = Objects.requireNonNull(shutdownGrace);
      return this;
    }

    public DataPlaneServer build() {
      if (store == null || metrics == null || boss == null) {
        throw new IllegalStateException("a data-plane server needs store, metrics and eventLoops");
      }
      return new DataPlaneServer(this);
    }
  }
}
