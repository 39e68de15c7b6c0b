package io.kvhoard.perf.load;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A blocking socket with a small receive buffer, shared by every target's connection: lines and
 * fixed headers are parsed from the buffer; block payloads go from the socket straight into the
 * caller's buffer and from the caller's buffer straight to the socket (the kernel's copy is the
 * only one), which is what a good client of any of these protocols does.
 *
 * <p>Every connection of every system gets the same socket settings: {@code TCP_NODELAY}, the
 * kernel's default buffer sizes.
 *
 * <p>Not thread-safe, except {@link #close()}, which unblocks a read or write in progress.
 */
final class Wire implements Closeable {
  /** Receive buffer for lines and headers; payload bytes read ahead with them are drained first. */
  static final int RECEIVE_BUFFER_BYTES = 8 * 1024;

  /** Longest line accepted (memcached's and Redis's answers are far shorter). */
  static final int MAX_LINE_BYTES = 4096;

  private final SocketChannel channel;
  private final ByteBuffer in; // read mode: [position, limit) are received bytes not consumed yet

  private Wire(SocketChannel channel) {
    this.channel = channel;
    this.in = BlockContent.newBuffer(RECEIVE_BUFFER_BYTES, 0).flip();
  }

  /** Connects to {@code address} in blocking mode with {@code TCP_NODELAY}. */
  static Wire connect(InetSocketAddress address) throws IOException {
    SocketChannel channel = SocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.connect(address);
      return new Wire(channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Writes the remaining bytes of every part, in order (one gathering write when it can). */
  void write(ByteBuffer... parts) throws IOException {
    long remaining = 0;
    for (ByteBuffer part : parts) {
      remaining += part.remaining();
    }
    while (remaining > 0) {
      remaining -= channel.write(parts);
    }
  }

  /** Writes {@code ascii} as US-ASCII bytes. */
  void writeAscii(String ascii) throws IOException {
    write(ByteBuffer.wrap(ascii.getBytes(StandardCharsets.US_ASCII)));
  }

  /**
   * The next line, without its CRLF.
   *
   * @throws ProtocolException if the line is longer than {@link #MAX_LINE_BYTES} or not ended by
   *     CRLF
   * @throws EOFException if the server closed the connection first
   */
  String readLine() throws IOException {
    int scanned = 0;
    while (true) {
      int start = in.position();
      for (int i = start + scanned; i < in.limit(); i++) {
        if (in.get(i) == '\n') {
          if (i == start || in.get(i - 1) != '\r') {
            throw new ProtocolException("a line ended by LF without CR");
          }
          byte[] line = new byte[i - 1 - start];
          in.get(line);
          in.position(i + 1);
          return new String(line, StandardCharsets.US_ASCII);
        }
      }
      scanned = in.remaining();
      if (scanned >= MAX_LINE_BYTES) {
        throw new ProtocolException("no end of line in the first " + scanned + " bytes");
      }
      fill();
    }
  }

  /**
   * The next {@code n} bytes as a view (big-endian; valid until the next call on this wire), and
   * consumes them.
   *
   * @throws IllegalArgumentException if {@code n} exceeds {@link #RECEIVE_BUFFER_BYTES}
   */
  ByteBuffer take(int n) throws IOException {
    if (n > RECEIVE_BUFFER_BYTES) {
      throw new IllegalArgumentException(n + " bytes do not fit the receive buffer");
    }
    while (in.remaining() < n) {
      fill();
    }
    ByteBuffer view = in.slice(in.position(), n);
    in.position(in.position() + n);
    return view;
  }

  /**
   * Reads exactly {@code n} bytes into {@code dst} at its position: first those already received,
   * then straight from the socket. Leaves {@code dst}'s position after them and its limit at its
   * capacity.
   */
  void readFully(ByteBuffer dst, int n) throws IOException {
    int end = dst.position() + n;
    dst.limit(end);
    if (in.hasRemaining()) {
      int buffered = Math.min(in.remaining(), n);
      dst.put(in.slice(in.position(), buffered));
      in.position(in.position() + buffered);
    }
    while (dst.hasRemaining()) {
      if (channel.read(dst) < 0) {
        throw new EOFException(
            "the server closed the connection " + dst.remaining() + " bytes before the end");
      }
    }
    dst.limit(dst.capacity());
  }

  /** Reads and discards {@code n} bytes. */
  void skip(long n) throws IOException {
    while (n > 0) {
      if (!in.hasRemaining()) {
        fill();
      }
      int k = (int) Math.min(n, in.remaining());
      in.position(in.position() + k);
      n -= k;
    }
  }

  private void fill() throws IOException {
    in.compact();
    int n;
    try {
      n = channel.read(in);
    } finally {
      in.flip();
    }
    if (n < 0) {
      throw new EOFException("the server closed the connection");
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
