package io.kvhoard.server.cli;

import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Hello;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * A minimal blocking data-plane client for the command line: one connection, one request at a time.
 * (Model servers use the {@code client} module, which pipelines, spreads over servers and never
 * blocks.) Not thread-safe.
 */
final class FrameClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private final FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
  private ByteBuf cumulation = alloc.buffer(64 * 1024);
  private long nextId = 1;

  /**
   * Connects to {@code HOST:PORT} and says HELLO.
   *
   * @throws IOException if the server cannot be reached or refuses the HELLO
   */
  FrameClient(String server, Duration timeout) throws IOException {
    int colon = server.lastIndexOf(':');
    if (colon <= 0 || colon == server.length() - 1) {
      throw new IllegalArgumentException("--server must be HOST:PORT, got '" + server + "'");
    }
    int port;
    try {
      port = Integer.parseInt(server.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--server must be HOST:PORT, got '" + server + "'", e);
    }
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) timeout.toMillis());
    try {
      socket.connect(
          new InetSocketAddress(server.substring(0, colon), port), (int) timeout.toMillis());
    } catch (IOException e) {
      socket.close();
      cumulation.release();
      throw new IOException("cannot connect to " + server + ": " + e.getMessage(), e);
    }
    in = socket.getInputStream();
    out = socket.getOutputStream();
    Frame reply = call(Frame.hello(nextId(), Hello.of(FrameLimits.DEFAULT), alloc));
    try {
      if (reply.isError()) {
        throw new IOException("the server refused HELLO: " + reply.errorMessage());
      }
    } finally {
      reply.release();
    }
  }

  long nextId() {
    return nextId++;
  }

  ByteBufAllocator alloc() {
    return alloc;
  }

  /** Sends {@code request} (released here) and returns its response; the caller releases it. */
  Frame call(Frame request) throws IOException {
    ByteBuf wire = FrameCodec.encode(request, alloc);
    try {
      wire.readBytes(out, wire.readableBytes());
      out.flush();
    } finally {
      wire.release();
    }
    byte[] chunk = new byte[64 * 1024];
    while (true) {
      DecodeResult r = reader.read(cumulation);
      if (r instanceof Frame f) {
        // The frame's sections are slices of the cumulation: move the rest to a new buffer
        // rather than compacting this one under the frame's feet.
        ByteBuf rest = alloc.buffer(Math.max(64 * 1024, cumulation.readableBytes()));
        rest.writeBytes(cumulation);
        cumulation.release();
        cumulation = rest;
        return f;
      }
      if (r instanceof FrameError e) {
        throw new IOException("the server sent a malformed response: " + e.message());
      }
      int n = in.read(chunk);
      if (n < 0) {
        throw new IOException("the server closed the connection");
      }
      cumulation.writeBytes(chunk, 0, n);
    }
  }

  @Override
  public void close() throws IOException {
    cumulation.release();
    socket.close();
  }
}
