package io.kvhoard.server.cluster;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Hello;
import io.kvhoard.protocol.frame.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test fake: a tiny data-plane server on 127.0.0.1 that speaks the protocol correctly (HELLO, PUT,
 * CONTAINS_PREFIX, GET, through the protocol's own codec) but answers every GET hit with one byte
 * of the payload flipped and the CRC32C of the bytes it stored: the disk or memory corruption the
 * client's end-to-end check is for.
 *
 * <p>Thread-safe; a thread per connection.
 */
final class CorruptingServer implements AutoCloseable {
  private final ServerSocket socket;
  private final Map<String, byte[]> blocks = new ConcurrentHashMap<>();
  private final List<Socket> connections = new ArrayList<>();
  private final AtomicInteger corruptedSent = new AtomicInteger();
  private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;

  CorruptingServer() throws IOException {
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "corrupting-server-accept");
    t.setDaemon(true);
    t.start();
  }

  ServerAddress address() {
    return new ServerAddress("127.0.0.1", socket.getLocalPort());
  }

  /** GET hits answered with a flipped byte so far. */
  int corruptedSent() {
    return corruptedSent.get();
  }

  private void acceptLoop() {
    while (!socket.isClosed()) {
      try {
        Socket s = socket.accept();
        synchronized (connections) {
          connections.add(s);
        }
        Thread t = new Thread(() -> serve(s), "corrupting-server-connection");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket s) {
    FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
    ByteBuf cumulation = Unpooled.buffer(1 << 16);
    byte[] chunk = new byte[1 << 16];
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        DecodeResult r = reader.read(cumulation);
        if (r instanceof Frame f) {
          Frame answer;
          try {
            answer = answer(f);
          } finally {
            f.release();
          }
          ByteBuf wire = FrameCodec.encode(answer, alloc);
          answer.release();
          try {
            wire.readBytes(out, wire.readableBytes());
            out.flush();
          } finally {
            wire.release();
          }
          ByteBuf rest = Unpooled.buffer(Math.max(1 << 16, cumulation.readableBytes()));
          rest.writeBytes(cumulation);
          cumulation.release();
          cumulation = rest;
          continue;
        }
        if (r != null) {
          return; // a frame the codec rejects: hang up
        }
        int n = in.read(chunk);
        if (n < 0) {
          return;
        }
        cumulation.writeBytes(chunk, 0, n);
      }
    } catch (IOException e) {
      // the client went away
    } finally {
      cumulation.release();
    }
  }

  private Frame answer(Frame f) {
    if (f.opcode() == Opcode.HELLO) {
      return Frame.helloResponse(f.requestId(), 1, Hello.of(FrameLimits.DEFAULT), alloc);
    }
    try (FrameBuilder b = Frame.newResponse(f, alloc)) {
      for (int i = 0; i < f.blockCount(); i++) {
        byte[] key = f.key(i);
        String k = HexFormat.of().formatHex(key);
        byte[] held = blocks.get(k);
        switch (f.opcode()) {
          case PUT -> {
            ByteBuf p = f.blockPayload(i);
            byte[] bytes = new byte[p.readableBytes()];
            p.getBytes(p.readerIndex(), bytes);
            boolean created = blocks.putIfAbsent(k, bytes) == null;
            b.addStatus(key, created ? BlockStatus.OK : BlockStatus.EXISTS, BlockTier.HOST);
          }
          case CONTAINS_PREFIX -> {
            if (held != null) {
              b.addContained(key, held.length, BlockTier.HOST);
            } else {
              b.addStatus(key, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN);
            }
          }
          case GET -> {
            if (held == null) {
              b.addStatus(key, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN);
            } else {
              int crc = FrameCodec.crc32c(Unpooled.wrappedBuffer(held), 0, held.length);
              byte[] flipped = held.clone();
              flipped[flipped.length / 2] ^= 0x5A;
              corruptedSent.incrementAndGet();
              b.addHit(key, Unpooled.wrappedBuffer(flipped), crc, BlockTier.HOST);
            }
          }
          default -> b.addStatus(key, BlockStatus.ERROR, BlockTier.UNKNOWN);
        }
      }
      return b.build();
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    synchronized (connections) {
      for (Socket s : connections) {
        s.close();
      }
    }
  }
}
