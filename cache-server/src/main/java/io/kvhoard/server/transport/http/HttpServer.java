package io.kvhoard.server.transport.http;

import io.kvhoard.server.index.Scoring;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's HTTP endpoint: {@code /metrics} (Prometheus text), {@code /healthz} (the process
 * serves), {@code /readyz} (ready: tiers open, ports bound) and {@code /stats} (the store's
 * counters as JSON), and, with a {@link Scoring}, {@code POST /v1/score} (the prefix index's
 * routing scores, {@link ScoreJson}). GET only elsewhere; anything else is a 404 or 405. On the
 * caller's event loops.
 */
public final class HttpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpServer.class.getName());

  /** The largest request body: a 128k-token prompt as JSON is about 1 MiB. */
  static final int MAX_BODY = 16 << 20;

  private final Map<String, Supplier<String>> textPages;
  private final BooleanSupplier ready;
  private final Scoring scoring;
  private Channel channel;

  /**
   * @param pages path → body supplier; a path ending in {@code .json} or named {@code /stats} is
   *     served as JSON, the others as Prometheus text
   * @param ready whether {@code /readyz} answers 200
   */
  public HttpServer(Map<String, Supplier<String>> pages, BooleanSupplier ready) {
    this(pages, ready, null);
  }

  /**
   * @param scoring serves {@code POST /v1/score}; {@code null} for none
   */
  public HttpServer(Map<String, Supplier<String>> pages, BooleanSupplier ready, Scoring scoring) {
    this.textPages = Map.copyOf(pages);
    this.ready = Objects.requireNonNull(ready);
    this.scoring = scoring;
  }

  /** Binds; returns the bound address. */
  public InetSocketAddress start(
      EventLoopGroup boss, EventLoopGroup workers, boolean epoll, String bind, int port)
      throws IOException {
    Class<? extends ServerChannel> cls =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    var f =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(cls)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec(4096, 8192, 8192))
                        .addLast(new HttpObjectAggregator(MAX_BODY))
                        .addLast(new Handler());
                  }
                })
            .bind(bind, port)
            .awaitUninterruptibly();
    if (!f.isSuccess()) {
      throw new IOException(
          "http: cannot listen on " + bind + ":" + port + ": " + f.cause().getMessage(), f.cause());
    }
    channel = f.channel();
    InetSocketAddress at = (InetSocketAddress) channel.localAddress();
    LOG.log(
        Level.INFO,
        "http listening on "
            + at.getHostString()
            + ":"
            + at.getPort()
            + " (/metrics /healthz /readyz /stats"
            + (scoring != null ? ", POST /v1/score)" : ")"));
    return at;
  }

  @Override
  public void close() {
    if (channel != null) {
      channel.close().awaitUninterruptibly();
      channel = null;
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String path = new QueryStringDecoder(req.uri()).path();
      FullHttpResponse res;
      if (!req.decoderResult().isSuccess()) {
        res = text(HttpResponseStatus.BAD_REQUEST, "bad request\n", "text/plain");
      } else if (scoring != null && path.equals("/v1/score")) {
        res = score(req);
      } else if (!HttpMethod.GET.equals(req.method()) && !HttpMethod.HEAD.equals(req.method())) {
        res = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
      } else if (path.equals("/healthz")) {
        res = text(HttpResponseStatus.OK, "ok\n", "text/plain");
      } else if (path.equals("/readyz")) {
        res =
            ready.getAsBoolean()
                ? text(HttpResponseStatus.OK, "ready\n", "text/plain")
                : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n", "text/plain");
      } else if (textPages.containsKey(path)) {
        String type =
            path.equals("/stats") || path.endsWith(".json")
                ? "application/json"
                : "text/plain; version=0.0.4; charset=utf-8";
        try {
          res = text(HttpResponseStatus.OK, textPages.get(path).get(), type);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "http: " + path + " failed", e);
          res = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "error: " + e + "\n", "text/plain");
        }
      } else {
        res =
            text(
                HttpResponseStatus.NOT_FOUND,
                "not found; try /metrics /healthz /readyz /stats"
                    + (scoring != null ? " or POST /v1/score" : "")
                    + "\n",
                "text/plain");
      }
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      HttpUtil.setKeepAlive(res, keepAlive);
      var w = ctx.writeAndFlush(res);
      if (!keepAlive) {
        w.addListener(ChannelFutureListener.CLOSE);
      }
    }

    private FullHttpResponse score(FullHttpRequest req) {
      if (!HttpMethod.POST.equals(req.method())) {
        return text(
            HttpResponseStatus.METHOD_NOT_ALLOWED,
            ScoreJson.error("POST a JSON body to /v1/score"),
            "application/json");
      }
      byte[] body = new byte[req.content().readableBytes()];
      req.content().getBytes(req.content().readerIndex(), body);
      try {
        return text(HttpResponseStatus.OK, ScoreJson.handle(scoring, body), "application/json");
      } catch (ScoreJson.BadRequest e) {
        return text(
            HttpResponseStatus.BAD_REQUEST, ScoreJson.error(e.getMessage()), "application/json");
      } catch (IllegalStateException e) {
        return text(
            HttpResponseStatus.SERVICE_UNAVAILABLE,
            ScoreJson.error("the index is closed: the server is stopping"),
            "application/json");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static FullHttpResponse text(HttpResponseStatus status, String body, String type) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return r;
  }
}
