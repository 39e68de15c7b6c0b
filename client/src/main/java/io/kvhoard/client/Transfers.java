package io.kvhoard.client;

import io.kvhoard.client.discovery.Membership;
import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.client.transport.BlockOutcome;
import io.kvhoard.client.transport.ConnectionPool;
import io.kvhoard.client.transport.DataConnection;
import io.kvhoard.client.transport.Slot;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.key.NamespaceId;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Runs one batch operation over the servers: each server's blocks are split into lanes, one
 * connection each, run in parallel on the executor; every block ends with exactly one outcome
 * reported to the caller's {@link Sink}, including the blocks a failed or timed-out lane never got
 * to.
 *
 * <p>Design. A server's blocks are cut into frames of about {@code frameBytes} and the frames are
 * dealt to the lanes in turn (frame {@code f} to lane {@code f mod lanes}), so every lane starts
 * with the earliest blocks: if the deadline cuts the batch short, what arrived is as close to a
 * contiguous prefix as the lanes allow. More lanes than one only for batches of several frames
 * (LMCache and Mooncake both stripe a large transfer over several connections or queues for
 * bandwidth; one 56-byte header per frame is noise next to megabytes of payload).
 *
 * <p>Thread-safe: each call has its own state.
 */
final class Transfers {
  /** Outcome codes of one block, in a byte array indexed by block. */
  static final byte PENDING = 0;

  static final byte OK = 1;
  static final byte MISSING = 2;
  static final byte CORRUPT = 3;
  static final byte EXISTS = 4;
  static final byte REFUSED = 5;
  static final byte TIMEOUT = 6;
  static final byte FAILED = 7;

  enum Op {
    GET,
    PUT,
    CONTAINS
  }

  /** Receives each block's outcome; called from lane threads, once per (server, block). */
  @FunctionalInterface
  interface Sink {
    void block(ServerAddress server, int index, byte code, BlockTier tier);
  }

  private final NamespaceId namespace;
  private final int blockBytes;
  private final Membership membership;
  private final ConnectionPool pool;
  private final Executor executor;
  private final ClientMetrics metrics;
  private final int connectionsPerServer;
  private final long frameBytes;
  private final int framesInFlight;

  Transfers(
      NamespaceId namespace,
      int blockBytes,
      Membership membership,
      ConnectionPool pool,
      Executor executor,
      ClientMetrics metrics,
      int connectionsPerServer,
      long frameBytes,
      int framesInFlight) {
    this.namespace = namespace;
    this.blockBytes = blockBytes;
    this.membership = membership;
    this.pool = pool;
    this.executor = executor;
    this.metrics = metrics;
    this.connectionsPerServer = connectionsPerServer;
    this.frameBytes = frameBytes;
    this.framesInFlight = framesInFlight;
  }

  /** Runs {@code op} on every server's slots; completes when every block has its outcome. */
  CompletableFuture<Void> run(
      Op op, Map<ServerAddress, List<Slot>> byServer, long deadlineNanos, Sink sink) {
    List<CompletableFuture<Void>> lanes = new ArrayList<>();
    for (Map.Entry<ServerAddress, List<Slot>> e : byServer.entrySet()) {
      for (List<Slot> lane : lanes(op, e.getValue())) {
        ServerAddress server = e.getKey();
        try {
          lanes.add(
              CompletableFuture.runAsync(
                  () -> runLane(op, server, lane, deadlineNanos, sink), executor));
        } catch (RuntimeException rejected) { // the executor is shut down or full
          for (Slot s : lane) {
            sink.block(server, s.index(), FAILED, BlockTier.UNKNOWN);
          }
        }
      }
    }
    return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new));
  }

  /** A server's slots dealt to lanes frame by frame. */
  List<List<Slot>> lanes(Op op, List<Slot> slots) {
    int perFrame = (int) Math.max(1, Math.min(Integer.MAX_VALUE, frameBytes / blockBytes));
    int frames = (slots.size() + perFrame - 1) / perFrame;
    int n = op == Op.CONTAINS ? 1 : Math.max(1, Math.min(connectionsPerServer, frames));
    List<List<Slot>> lanes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      lanes.add(new ArrayList<>());
    }
    for (int f = 0; f < frames; f++) {
      int from = f * perFrame;
      lanes.get(f % n).addAll(slots.subList(from, Math.min(slots.size(), from + perFrame)));
    }
    return lanes;
  }

  private void runLane(
      Op op, ServerAddress server, List<Slot> slots, long deadlineNanos, Sink sink) {
    BitSet reported = new BitSet();
    io.kvhoard.client.transport.BlockSink laneSink =
        (index, outcome, tier) -> {
          reported.set(index);
          sink.block(server, index, code(outcome), tier);
          if (outcome == BlockOutcome.CORRUPT) {
            metrics.failure("corrupt");
          }
        };
    DataConnection c = null;
    byte unreported = FAILED;
    try {
      c = pool.acquire(server, deadlineNanos);
      switch (op) {
        case GET ->
            c.get(
                namespace,
                slots,
                blockBytes,
                c.blocksPerFrame(blockBytes, frameBytes),
                framesInFlight,
                deadlineNanos,
                laneSink);
        case PUT ->
            c.put(
                namespace,
                slots,
                c.blocksPerFrame(blockBytes, frameBytes),
                framesInFlight,
                deadlineNanos,
                laneSink);
        case CONTAINS ->
            c.contains(
                namespace, slots, c.blocksPerFrame(0, Long.MAX_VALUE), deadlineNanos, laneSink);
      }
      membership.succeeded(server);
    } catch (SocketTimeoutException e) {
      unreported = TIMEOUT;
      serverFailed(server, "timeout");
    } catch (ProtocolException e) {
      serverFailed(server, "protocol");
    } catch (IOException e) {
      serverFailed(server, "io");
    } catch (RuntimeException e) {
      serverFailed(server, "internal");
    } finally {
      if (c != null) {
        pool.release(c); // closes it unless it is in step with the server
      }
      for (Slot s : slots) {
        if (!reported.get(s.index())) {
          sink.block(server, s.index(), unreported, BlockTier.UNKNOWN);
        }
      }
    }
  }

  private void serverFailed(ServerAddress server, String kind) {
    metrics.failure(kind);
    membership.failed(server);
    pool.discard(server);
  }

  private static byte code(BlockOutcome o) {
    return switch (o) {
      case OK -> OK;
      case MISSING -> MISSING;
      case CORRUPT -> CORRUPT;
      case EXISTS -> EXISTS;
      case REFUSED -> REFUSED;
    };
  }

  /** Why a prefix stops at a block with {@code code}. */
  static StopReason stopReason(byte code) {
    return switch (code) {
      case MISSING -> StopReason.MISS;
      case CORRUPT -> StopReason.CORRUPT;
      case TIMEOUT -> StopReason.TIMEOUT;
      default -> StopReason.SERVER_FAILED;
    };
  }
}
