package io.kvhoard.perf.load;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The raw pump: the simplest Java server that can move blocks, so that what it reaches is the copy
 * limit of the machine (loopback TCP through the kernel, one copy each way in user space at most)
 * rather than a server's design. A thread per connection on a blocking socket; a PUT's payload is
 * read straight into a page-aligned direct buffer behind room for the GET answer's header, which is
 * filled in then, so that a GET is answered with one write from the start of a page (see {@link
 * BlockContent#newBuffer} for why the offsets matter on this machine).
 *
 * <p>Wire format (big-endian): request {@code op u8 ('P' or 'G'), key u64, length u32}, followed
 * for PUT by {@code length} payload bytes (for GET, length is the largest block the client
 * accepts). Answer to PUT: {@code status u8}. Answer to GET: {@code status u8, length u32}, then
 * the block. Status 0 = OK, 1 = not held, 2 = too large.
 *
 * <p>Each connection keeps its own blocks (keys are per connection: the harness reads back only
 * what the same connection stored). When the blocks of all connections together reach the capacity,
 * a connection that stores one more evicts its own oldest and reuses its buffer: no lock, no
 * allocation and no zeroing in the steady state, which is what makes it a limit rather than a
 * competitor.
 *
 * <p>Started by the benchmark as a child process ({@link #main}), like every other server, so that
 * its CPU time can be read from {@code /proc} and it does not share a JVM with the load.
 * Thread-safe; threads come from the given factory.
 */
public final class RawPumpServer implements Closeable {
  static final byte PUT = 'P';
  static final byte GET = 'G';
  static final byte OK = 0;
  static final byte NOT_FOUND = 1;
  static final byte TOO_LARGE = 2;
  static final int REQUEST_HEADER_BYTES = 13;
  static final int GET_ANSWER_HEADER_BYTES = 5;

  /** Largest block accepted: 1 GiB. */
  static final int MAX_BLOCK_BYTES = 1 << 30;

  private final ServerSocketChannel listener;
  private final long capacity;
  private final AtomicLong held = new AtomicLong(); // bytes of the blocks all connections hold
  private final ThreadFactory threads;
  // Buffers of connections that ended, for the next ones: the pump's memory is bounded by its peak
  // use, not by how many connections came and went (direct buffers are otherwise freed only by GC).
  private final ArrayDeque<ByteBuffer> pool = new ArrayDeque<>();

  /**
   * Binds {@code address} (port 0: any free port). Call {@link #start()} to serve.
   *
   * @param capacity bytes of blocks all connections together keep before they evict their oldest
   */
  RawPumpServer(InetSocketAddress address, long capacity, ThreadFactory threads)
      throws IOException {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
    this.threads = threads;
    this.listener = ServerSocketChannel.open();
    try {
      listener.bind(address);
    } catch (IOException e) {
      listener.close();
      throw e;
    }
  }

  /** The bound address. */
  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) listener.getLocalAddress();
  }

  /** Starts accepting connections on a thread of the factory. */
  void start() {
    threads.newThread(this::acceptLoop).start();
  }

  private void acceptLoop() {
    while (listener.isOpen()) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        continue;
      }
      threads.newThread(() -> serve(channel)).start();
    }
  }

  private void serve(SocketChannel channel) {
    try (channel) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Session session = new Session(channel);
      try {
        session.run();
      } finally {
        session.returnBuffers();
      }
    } catch (IOException e) {
      // the client went away or broke the protocol: this connection ends, the server goes on
    }
  }

  /** Stops accepting; open connections end when their clients close them. */
  @Override
  public void close() throws IOException {
    listener.close();
  }

  private ByteBuffer fromPool(int length) {
    synchronized (pool) {
      for (Iterator<ByteBuffer> it = pool.iterator(); it.hasNext(); ) {
        ByteBuffer b = it.next();
        if (b.capacity() >= length) {
          it.remove();
          return b;
        }
      }
      pool.clear(); // too small for the blocks now being stored
    }
    return BlockContent.newBuffer(length, 0);
  }

  /** One connection's loop and blocks. */
  private final class Session {
    private final SocketChannel channel;
    private final ByteBuffer header = ByteBuffer.allocateDirect(REQUEST_HEADER_BYTES);
    private final ByteBuffer answer = ByteBuffer.allocateDirect(GET_ANSWER_HEADER_BYTES);
    private final Map<Long, ByteBuffer> blocks = new HashMap<>();
    private final ArrayDeque<Long> order = new ArrayDeque<>(); // oldest first
    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();

    Session(SocketChannel channel) {
      this.channel = channel;
    }

    void run() throws IOException {
      while (true) {
        header.clear();
        if (!readFully(header, true)) {
          return;
        }
        byte op = header.get(0);
        long key = header.getLong(1);
        int length = header.getInt(9);
        if (length < 0 || length > MAX_BLOCK_BYTES) {
          throw new IOException("bad length " + length);
        }
        if (op == PUT) {
          put(key, length);
        } else if (op == GET) {
          get(key, length);
        } else {
          throw new IOException("bad op " + op);
        }
      }
    }

    private void put(long key, int length) throws IOException {
      ByteBuffer block = blocks.remove(key);
      if (block != null) {
        order.remove(key);
        held.addAndGet(-block.capacity());
        if (block.capacity() < GET_ANSWER_HEADER_BYTES + length) {
          block = null;
        }
      }
      if (block == null) {
        block = bufferFor(GET_ANSWER_HEADER_BYTES + length);
      }
      block.clear().limit(GET_ANSWER_HEADER_BYTES + length);
      block.put(0, OK).putInt(1, length).position(GET_ANSWER_HEADER_BYTES);
      readFully(block, false);
      blocks.put(key, block);
      order.addLast(key);
      held.addAndGet(block.capacity());
      answer.clear().put(OK).flip();
      writeFully(answer);
    }

    /** A buffer of at least {@code length} bytes: a spare one, or one evicted, or a new one. */
    private ByteBuffer bufferFor(int length) {
      while (held.get() + length > capacity && !order.isEmpty()) {
        ByteBuffer evicted = blocks.remove(order.removeFirst());
        held.addAndGet(-evicted.capacity());
        spare.addLast(evicted);
      }
      for (Iterator<ByteBuffer> it = spare.iterator(); it.hasNext(); ) {
        ByteBuffer b = it.next();
        if (b.capacity() >= length) {
          it.remove();
          return b;
        }
      }
      return fromPool(length);
    }

    void returnBuffers() {
      for (ByteBuffer b : blocks.values()) {
        held.addAndGet(-b.capacity());
      }
      synchronized (pool) {
        pool.addAll(blocks.values());
        pool.addAll(spare);
      }
      blocks.clear();
      spare.clear();
    }

    private void get(long key, int maxLength) throws IOException {
      ByteBuffer block = blocks.get(key);
      answer.clear();
      if (block == null) {
        answer.put(NOT_FOUND).putInt(0).flip();
        writeFully(answer);
      } else if (block.limit() - GET_ANSWER_HEADER_BYTES > maxLength) {
        answer.put(TOO_LARGE).putInt(block.limit() - GET_ANSWER_HEADER_BYTES).flip();
        writeFully(answer);
      } else {
        writeFully(block.duplicate().position(0)); // the answer header is stored with the block
      }
    }

    /** Fills {@code dst}; false if the client closed cleanly before its first byte. */
    private boolean readFully(ByteBuffer dst, boolean atRequestStart) throws IOException {
      while (dst.hasRemaining()) {
        if (channel.read(dst) < 0) {
          if (atRequestStart && dst.position() == 0) {
            return false;
          }
          throw new EOFException("the client closed the connection mid-request");
        }
      }
      return true;
    }

    private void writeFully(ByteBuffer... parts) throws IOException {
      long remaining = 0;
      for (ByteBuffer p : parts) {
        remaining += p.remaining();
      }
      while (remaining > 0) {
        remaining -= channel.write(parts);
      }
    }
  }

  /**
   * {@code java -cp kvhoard-perf.jar io.kvhoard.perf.load.RawPumpServer --port N [--capacity
   * BYTES]}: serves on 127.0.0.1:N until killed, keeping up to BYTES of blocks (default 512 MiB).
   */
  public static void main(String[] args) throws IOException {
    int port = -1;
    long capacity = 512L << 20;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--capacity" -> capacity = Long.parseLong(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (port < 0 || args.length % 2 != 0) {
      System.err.println("usage: RawPumpServer --port N [--capacity BYTES]");
      System.exit(2);
    }
    RawPumpServer server =
        new RawPumpServer(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
            capacity,
            r -> new Thread(r, "raw-pump"));
    server.start();
    System.out.println("raw pump listening on " + server.address());
  }
}
