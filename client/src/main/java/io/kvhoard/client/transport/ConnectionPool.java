package io.kvhoard.client.transport;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.frame.FrameLimits;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.LongSupplier;

/**
 * Idle data-plane connections per server, opened on demand. A connection is used by one batch at a
 * time: {@link #acquire} takes an idle one or opens a new one, {@link #release} returns it if it is
 * still in step with the server, and closes it otherwise (after a timeout or any I/O or protocol
 * error it may hold stale bytes of an abandoned response, so it is never reused).
 *
 * <p>Thread-safe. {@link #close()} closes every idle connection; connections in use are closed when
 * released after it.
 */
public final class ConnectionPool implements AutoCloseable {
  private final FrameLimits limits;
  private final ByteBufAllocator alloc;
  private final LongSupplier ticker;
  private final int maxIdlePerServer;
  private final Map<ServerAddress, Deque<DataConnection>> idle = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * A pool whose connections receive at most {@code limits} and keep at most {@code
   * maxIdlePerServer} idle connections to each server.
   */
  public ConnectionPool(
      FrameLimits limits, ByteBufAllocator alloc, LongSupplier ticker, int maxIdlePerServer) {
    this.limits = limits;
    this.alloc = alloc;
    this.ticker = ticker;
    this.maxIdlePerServer = maxIdlePerServer;
  }

  /**
   * An idle connection to {@code server}, or a new one (connected and past HELLO by {@code
   * deadlineNanos}).
   *
   * @throws IOException if the server cannot be reached or refuses HELLO in time
   */
  public DataConnection acquire(ServerAddress server, long deadlineNanos) throws IOException {
    if (closed) {
      throw new IOException("the client is closed");
    }
    Deque<DataConnection> q = idle.get(server);
    if (q != null) {
      DataConnection c;
      while ((c = q.pollFirst()) != null) {
        if (c.isUsable()) {
          return c;
        }
        c.close();
      }
    }
    return DataConnection.open(server, limits, alloc, ticker, deadlineNanos);
  }

  /** Returns {@code c} to the pool if it is usable, else closes it. */
  public void release(DataConnection c) {
    if (closed || !c.isUsable()) {
      c.close();
      return;
    }
    Deque<DataConnection> q = idle.computeIfAbsent(c.server(), s -> new ConcurrentLinkedDeque<>());
    if (q.size() >= maxIdlePerServer) {
      c.close();
      return;
    }
    q.addFirst(c);
    if (closed && q.remove(c)) {
      c.close();
    }
  }

  /** Closes the idle connections to {@code server} (it failed: they are likely dead too). */
  public void discard(ServerAddress server) {
    Deque<DataConnection> q = idle.remove(server);
    if (q != null) {
      closeAll(new ArrayList<>(q));
    }
  }

  /** Idle connections to {@code server} now (for tests). */
  public int idleCount(ServerAddress server) {
    Deque<DataConnection> q = idle.get(server);
    return q == null ? 0 : q.size();
  }

  @Override
  public void close() {
    closed = true;
    List<DataConnection> all = new ArrayList<>();
    for (Deque<DataConnection> q : idle.values()) {
      DataConnection c;
      while ((c = q.pollFirst()) != null) {
        all.add(c);
      }
    }
    idle.clear();
    closeAll(all);
  }

  private static void closeAll(List<DataConnection> all) {
    for (DataConnection c : all) {
      c.close(); // never throws
    }
  }
}
