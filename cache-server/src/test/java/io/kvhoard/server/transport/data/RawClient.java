package io.kvhoard.server.transport.data;

import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Hello;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** Test helper: a blocking socket that writes frames or raw bytes and reads frames. */
final class RawClient implements AutoCloseable {
  final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
  private ByteBuf cumulation = Unpooled.buffer(1 << 16);
  private long nextId = 1;

  RawClient(InetSocketAddress server) throws IOException {
    socket = new Socket();
    socket.setSoTimeout(10_000);
    socket.connect(server, 5_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  static RawClient hello(InetSocketAddress server) throws IOException {
    RawClient c = new RawClient(server);
    Frame r = c.call(Frame.hello(c.nextId(), Hello.of(FrameLimits.DEFAULT), alloc()));
    try {
      if (r.isError()) {
        throw new IOException("HELLO refused: " + r.errorMessage());
      }
    } finally {
      r.release();
    }
    return c;
  }

  static ByteBufAllocator alloc() {
    return ByteBufAllocator.DEFAULT;
  }

  long nextId() {
    return nextId++;
  }

  void send(Frame f) throws IOException {
    ByteBuf wire = FrameCodec.encode(f, alloc());
    try {
      sendRaw(wire);
    } finally {
      wire.release();
    }
  }

  void sendRaw(ByteBuf bytes) throws IOException {
    bytes.getBytes(bytes.readerIndex(), out, bytes.readableBytes());
    out.flush();
  }

  void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** The next frame from the server (caller releases); throws on EOF or a malformed response. */
  Frame receive() throws IOException {
    byte[] chunk = new byte[1 << 16];
    while (true) {
      DecodeResult r = reader.read(cumulation);
      if (r instanceof Frame f) {
        // The frame's sections are slices of the cumulation: move the rest to a new buffer
        // rather than compacting this one under the frame's feet.
        ByteBuf rest = Unpooled.buffer(Math.max(1 << 16, cumulation.readableBytes()));
        rest.writeBytes(cumulation);
        cumulation.release();
        cumulation = rest;
        return f;
      }
      if (r instanceof FrameError e) {
        throw new IOException("malformed response: " + e.message());
      }
      int n = in.read(chunk);
      if (n < 0) {
        throw new IOException("closed by the server");
      }
      cumulation.writeBytes(chunk, 0, n);
    }
  }

  Frame call(Frame request) throws IOException {
    send(request);
    return receive();
  }

  /** Whether the server closed the connection (EOF) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      byte[] sink = new byte[1 << 16];
      while (true) {
        if (in.read(sink) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    cumulation.release();
    socket.close();
  }
}
