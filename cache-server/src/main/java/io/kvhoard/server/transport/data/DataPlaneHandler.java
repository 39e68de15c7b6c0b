package io.kvhoard.server.transport.data;

import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameStatus;
import io.kvhoard.protocol.frame.Hello;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.NoSpaceException;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TierKind;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.DirectoryEntry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One data-plane connection: HELLO first, then GET, PUT, CONTAINS_PREFIX, DELETE and PING, many in
 * flight at once and answered as they complete (out of order; each response echoes its request id).
 *
 * <p>GET responses carry the host tier's pages themselves: each found block's lease is held until
 * the write of its response completes or fails, then released. Request bytes in flight are counted
 * per connection and globally; past either limit the connection stops reading until responses drain
 * (back-pressure, not a queue). A frame the decoder rejects is answered with an error frame and
 * counted; a fatal one also closes the connection. A client that takes longer than the request
 * timeout to send one frame, or that stays silent past the idle timeout, is disconnected.
 *
 * <p>Runs on the channel's event loop; responses computed elsewhere (disk reads) hop back to it.
 */
final class DataPlaneHandler extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(DataPlaneHandler.class.getName());

  private final TieredStore store;
  private final DataPlaneMetrics metrics;
  private final InflightBudget global;
  private final Hello serverHello;
  private final long connectionLimit;
  private final int blockTokens;
  private final long requestTimeoutNanos;
  private final FrameProgress progress;

  private boolean helloDone;
  private int version = FrameCodec.MIN_VERSION;
  private FrameLimits peerLimits;
  private long inflight;
  private boolean paused;
  private boolean closing;
  private ScheduledFuture<?> slowCheck;

  DataPlaneHandler(
      TieredStore store,
      DataPlaneMetrics metrics,
      InflightBudget global,
      FrameLimits limits,
      long connectionLimit,
      int blockTokens,
      long requestTimeoutNanos,
      FrameProgress progress) {
    this.store = store;
    this.metrics = metrics;
    this.global = global;
    this.serverHello = Hello.of(limits);
    this.peerLimits = limits;
    this.connectionLimit = connectionLimit;
    this.blockTokens = blockTokens;
    this.requestTimeoutNanos = requestTimeoutNanos;
    this.progress = progress;
  }

  /** Request bytes this connection has in flight. */
  long inflight() {
    return inflight;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    metrics.connectionOpened();
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), requestTimeoutNanos / 4);
    slowCheck =
        ctx.executor()
            .scheduleAtFixedRate(() -> checkSlow(ctx), period, period, TimeUnit.NANOSECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    metrics.connectionClosed();
    if (slowCheck != null) {
      slowCheck.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  private void checkSlow(ChannelHandlerContext ctx) {
    long started = progress.partialFrameSince();
    if (started != 0 && System.nanoTime() - started > requestTimeoutNanos && !closing) {
      closing = true;
      metrics.slowClients.increment();
      LOG.log(
          Level.WARNING,
          "data plane: closing "
              + ctx.channel().remoteAddress()
              + ": a frame took longer than the request timeout ("
              + TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos)
              + " ms) to arrive");
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      metrics.idleClosed.increment();
      LOG.log(Level.DEBUG, "data plane: closing idle " + ctx.channel().remoteAddress());
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(
        Level.WARNING,
        "data plane: connection " + ctx.channel().remoteAddress() + " failed: " + cause);
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    progress.frameDone();
    if (msg instanceof FrameError err) {
      rejectDecoded(ctx, err);
      return;
    }
    Frame f = (Frame) msg;
    if (closing) {
      f.release();
      return;
    }
    if (f.isResponse()) {
      reject(ctx, f, FrameStatus.BAD_FRAME, "a client sends requests, not responses", false);
      return;
    }
    if (!helloDone && f.opcode() != Opcode.HELLO) {
      reject(ctx, f, FrameStatus.BAD_FRAME, "HELLO must be the first frame", true);
      return;
    }
    long bytes = f.frameLength();
    inflight += bytes;
    boolean globalOk = global.acquire(bytes);
    if (inflight > connectionLimit || !globalOk) {
      pause(ctx, !globalOk);
    }
    long start = System.nanoTime();
    Opcode op = f.opcode();
    CompletableFuture<Response> response;
    try {
      response =
          switch (op) {
            case HELLO -> CompletableFuture.completedFuture(hello(ctx, f));
            case PING ->
                CompletableFuture.completedFuture(
                    new Response(Frame.pingResponse(f.requestId(), f.payload().retain()), null));
            case GET -> get(ctx, f);
            case PUT -> put(ctx, f);
            case CONTAINS_PREFIX -> CompletableFuture.completedFuture(containsPrefix(ctx, f));
            case DELETE -> CompletableFuture.completedFuture(delete(ctx, f));
            default ->
                CompletableFuture.completedFuture(
                    errorResponse(ctx, f, FrameStatus.UNKNOWN_OPCODE, "unknown opcode " + op));
          };
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    response.whenComplete(
        (r, err) -> {
          if (ctx.executor().inEventLoop()) {
            respond(ctx, f, r, err, bytes, start);
          } else {
            ctx.executor().execute(() -> respond(ctx, f, r, err, bytes, start));
          }
        });
  }

  /** A response frame and the leases its payload points into (released after the write). */
  private record Response(Frame frame, List<BlockLease> leases) {}

  private void respond(
      ChannelHandlerContext ctx, Frame request, Response r, Throwable err, long bytes, long start) {
    Opcode op = request.opcode();
    long requestId = request.requestId();
    request.release();
    if (err != null) {
      Throwable cause =
          err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      LOG.log(Level.WARNING, "data plane: " + op + " request " + requestId + " failed", cause);
      metrics.rejected(FrameStatus.INTERNAL);
      r =
          new Response(
              Frame.error(
                  op, requestId, FrameStatus.INTERNAL, "server error: " + cause, ctx.alloc()),
              null);
    }
    Frame frame = r.frame();
    List<BlockLease> leases = r.leases();
    long out = frame.frameLength();
    ctx.writeAndFlush(frame)
        .addListener(
            (ChannelFutureListener)
                fut -> {
                  if (leases != null) {
                    for (BlockLease l : leases) {
                      l.release();
                    }
                  }
                  metrics.request(op, System.nanoTime() - start, bytes, out);
                  done(ctx, bytes);
                });
  }

  private void done(ChannelHandlerContext ctx, long bytes) {
    inflight -= bytes;
    global.release(bytes);
    if (paused && inflight <= connectionLimit && global.withinLimit()) {
      resume(ctx);
    }
  }

  private void pause(ChannelHandlerContext ctx, boolean waitForGlobal) {
    if (!paused) {
      paused = true;
      ctx.channel().config().setAutoRead(false);
    }
    if (waitForGlobal) {
      global.await(ctx.channel());
    }
  }

  /** Called on the event loop when the global budget frees up, or by {@link #done}. */
  void resume(ChannelHandlerContext ctx) {
    if (paused && inflight <= connectionLimit && global.withinLimit()) {
      paused = false;
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  // ---- errors -------------------------------------------------------------------------------

  private void rejectDecoded(ChannelHandlerContext ctx, FrameError err) {
    metrics.rejected(err.status());
    LOG.log(
        err.fatal() ? Level.WARNING : Level.INFO,
        "data plane: rejected a frame from "
            + ctx.channel().remoteAddress()
            + " ("
            + err.status()
            + (err.fatal() ? ", closing" : "")
            + "): "
            + err.message());
    if (err.response()) {
      if (err.fatal()) {
        ctx.close();
      }
      return;
    }
    writeError(ctx, Frame.error(err, ctx.alloc()), err.fatal());
    if (err.fatal()) {
      closing = true;
    }
  }

  private void reject(
      ChannelHandlerContext ctx, Frame f, FrameStatus status, String message, boolean close) {
    metrics.rejected(status);
    LOG.log(
        Level.INFO,
        "data plane: rejected "
            + f.opcode()
            + " from "
            + ctx.channel().remoteAddress()
            + ": "
            + message);
    Frame err = Frame.error(f.opcode(), f.requestId(), status, message, ctx.alloc());
    f.release();
    if (close) {
      closing = true;
    }
    writeError(ctx, err, close);
  }

  private Response errorResponse(
      ChannelHandlerContext ctx, Frame f, FrameStatus status, String message) {
    metrics.rejected(status);
    return new Response(Frame.error(f.opcode(), f.requestId(), status, message, ctx.alloc()), null);
  }

  /** Writes an error frame, then closes the connection if asked. */
  private static void writeError(ChannelHandlerContext ctx, Frame frame, boolean close) {
    var fut = ctx.writeAndFlush(frame);
    if (close) {
      fut.addListener(ChannelFutureListener.CLOSE);
    }
  }

  // ---- operations ---------------------------------------------------------------------------

  private Response hello(ChannelHandlerContext ctx, Frame f) {
    Hello peer = f.hello();
    OptionalInt chosen = serverHello.negotiate(peer);
    if (chosen.isEmpty()) {
      return errorResponse(
          ctx,
          f,
          FrameStatus.UNSUPPORTED_VERSION,
          "no common version: the server speaks "
              + serverHello.minVersion()
              + ".."
              + serverHello.maxVersion());
    }
    helloDone = true;
    version = chosen.getAsInt();
    peerLimits = serverHello.limits().intersect(peer.limits());
    return new Response(
        Frame.helloResponse(f.requestId(), version, serverHello, ctx.alloc()), null);
  }

  private StoreKey storeKey(Frame f, int block) {
    return new StoreKey(f.namespaceId(), BlockKey.of(f.key(block)));
  }

  private CompletableFuture<Response> get(ChannelHandlerContext ctx, Frame f) {
    int n = f.blockCount();
    List<CompletableFuture<BlockLease>> reads = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      CompletableFuture<BlockLease> read;
      try {
        read = store.read(storeKey(f, i));
      } catch (RuntimeException e) {
        read = CompletableFuture.failedFuture(e);
      }
      reads.add(read.exceptionally(e -> null));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(v -> buildGet(ctx, f, reads));
  }

  private Response buildGet(
      ChannelHandlerContext ctx, Frame f, List<CompletableFuture<BlockLease>> reads) {
    List<BlockLease> held = new ArrayList<>();
    long frameBytes = FrameCodec.HEADER_BYTES + (long) f.blockCount() * FrameCodec.DESCRIPTOR_BYTES;
    int hits = 0;
    int misses = 0;
    try (FrameBuilder b = Frame.newResponse(f, ctx.alloc())) {
      for (int i = 0; i < reads.size(); i++) {
        BlockLease lease = reads.get(i).join();
        byte[] key = f.key(i);
        if (lease == null) {
          b.addStatus(key, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN);
          misses++;
          continue;
        }
        long slot = Integer.toUnsignedLong(f.blockLength(i));
        if ((slot != 0 && lease.length() > slot)
            || frameBytes + lease.length() > peerLimits.maxFrameBytes()) {
          lease.release();
          b.addStatus(key, BlockStatus.TOO_LARGE, tier(lease.tier()));
          continue;
        }
        held.add(lease);
        frameBytes += lease.length();
        ByteBuf payload;
        try {
          payload = lease.content().retain(); // released with the frame; the lease after the write
        } catch (UnsupportedOperationException deviceMemory) {
          payload = ctx.alloc().directBuffer((int) lease.length());
          lease.copyTo(payload).join();
        }
        b.addHit(key, payload, lease.crc32c(), tier(lease.tier()));
        hits++;
      }
      metrics.blocks(Opcode.GET, "hit", hits);
      metrics.blocks(Opcode.GET, "miss", misses);
      return new Response(b.build(), held);
    } catch (RuntimeException e) {
      for (BlockLease l : held) {
        l.release();
      }
      throw e;
    }
  }

  private CompletableFuture<Response> put(ChannelHandlerContext ctx, Frame f) {
    int n = f.blockCount();
    List<CompletableFuture<BlockStatus>> outcomes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      outcomes.add(putOne(f, i));
    }
    return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              try (FrameBuilder b = Frame.newResponse(f, ctx.alloc())) {
                int[] counts = new int[BlockStatus.values().length];
                for (int i = 0; i < n; i++) {
                  BlockStatus s = outcomes.get(i).join();
                  counts[s.ordinal()]++;
                  BlockTier t = BlockTier.UNKNOWN;
                  if (s == BlockStatus.OK || s == BlockStatus.EXISTS) {
                    t = tierOf(store.entry(storeKey(f, i)));
                  }
                  b.addStatus(f.key(i), s, t);
                }
                for (BlockStatus s : BlockStatus.values()) {
                  metrics.blocks(
                      Opcode.PUT, s.name().toLowerCase(java.util.Locale.ROOT), counts[s.ordinal()]);
                }
                return new Response(b.build(), null);
              }
            });
  }

  private CompletableFuture<BlockStatus> putOne(Frame f, int i) {
    if (!f.blockPayloadMatchesCrc(i)) {
      metrics.checksumRejected.increment();
      return CompletableFuture.completedFuture(BlockStatus.CHECKSUM_MISMATCH);
    }
    int length = f.blockLength(i);
    if (length < 1) {
      return CompletableFuture.completedFuture(BlockStatus.ERROR);
    }
    BlockWriter w;
    try {
      w = store.reserve(storeKey(f, i), null, blockTokens, length);
    } catch (NoSpaceException e) {
      return CompletableFuture.completedFuture(
          e.everFits() ? BlockStatus.NO_SPACE : BlockStatus.TOO_LARGE);
    } catch (StoreException | RuntimeException e) {
      LOG.log(Level.WARNING, "data plane: PUT of a block failed: " + e);
      return CompletableFuture.completedFuture(BlockStatus.ERROR);
    }
    int crc = f.blockCrc(i);
    return w.write(0, f.blockPayload(i))
        .thenCompose(v -> w.commit(crc))
        .handle(
            (created, err) -> {
              w.close();
              if (err != null) {
                LOG.log(Level.WARNING, "data plane: PUT of a block failed: " + err);
                return BlockStatus.ERROR;
              }
              return created ? BlockStatus.OK : BlockStatus.EXISTS;
            });
  }

  private Response containsPrefix(ChannelHandlerContext ctx, Frame f) {
    try (FrameBuilder b = Frame.newResponse(f, ctx.alloc())) {
      boolean chainBroken = false;
      int held = 0;
      for (int i = 0; i < f.blockCount(); i++) {
        DirectoryEntry e = chainBroken ? null : store.entry(storeKey(f, i));
        if (e == null) {
          chainBroken = true;
          b.addStatus(f.key(i), BlockStatus.NOT_FOUND, BlockTier.UNKNOWN);
        } else {
          b.addContained(f.key(i), (int) Math.min(Integer.MAX_VALUE, e.length()), tierOf(e));
          held++;
        }
      }
      metrics.blocks(Opcode.CONTAINS_PREFIX, "held", held);
      return new Response(b.build(), null);
    }
  }

  private Response delete(ChannelHandlerContext ctx, Frame f) {
    try (FrameBuilder b = Frame.newResponse(f, ctx.alloc())) {
      for (int i = 0; i < f.blockCount(); i++) {
        BlockStatus s;
        try {
          s = store.remove(storeKey(f, i)) ? BlockStatus.OK : BlockStatus.NOT_FOUND;
        } catch (StoreException e) {
          LOG.log(Level.WARNING, "data plane: DELETE of a block failed: " + e);
          s = BlockStatus.ERROR;
        }
        b.addStatus(f.key(i), s, BlockTier.UNKNOWN);
      }
      return new Response(b.build(), null);
    }
  }

  private static BlockTier tierOf(DirectoryEntry e) {
    TierKind k = e == null ? null : e.hottest();
    return k == null ? BlockTier.UNKNOWN : tier(k);
  }

  private static BlockTier tier(TierKind k) {
    return switch (k) {
      case GPU -> BlockTier.GPU;
      case HOST -> BlockTier.HOST;
      case DISK -> BlockTier.DISK;
    };
  }
}
