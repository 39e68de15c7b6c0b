package io.kvhoard.perf.load;

import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.FrameStatus;
import io.kvhoard.protocol.frame.Hello;
import io.kvhoard.protocol.frame.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tiny kvhoard data-plane server for tests, built on the protocol's own codec: it decodes every
 * frame a client sends with {@link FrameReader} (so a client frame the codec rejects fails the
 * test), answers HELLO, PUT (checking each block's CRC32C) and GET from a map, and records what it
 * received. It can be told to corrupt the payloads it returns. A thread per connection.
 */
final class FakeKvHoardServer implements AutoCloseable {
  /** What one request frame said. */
  record Received(Opcode opcode, long requestId, int version, String namespaceHex, int blocks) {}

  private static final HexFormat HEX = HexFormat.of();

  private final ServerSocketChannel listener;
  private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
  private final Map<String, byte[]> blocks = new ConcurrentHashMap<>();
  private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
  private final List<String> rejected = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean corruptGets;

  FakeKvHoardServer() throws IOException {
    listener = ServerSocketChannel.open();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread t = new Thread(this::acceptLoop, "fake-kvhoard-accept");
    t.setDaemon(true);
    t.start();
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) listener.getLocalAddress();
  }

  /** From now on, GET answers carry a payload with one byte flipped (and the original CRC). */
  void corruptGets() {
    corruptGets = true;
  }

  List<Received> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  /** Messages of the frames the codec rejected. */
  List<String> rejected() {
    synchronized (rejected) {
      return List.copyOf(rejected);
    }
  }

  /** The payload stored under {@code key}, or null. */
  byte[] stored(byte[] key) {
    return blocks.get(HEX.formatHex(key));
  }

  private void acceptLoop() {
    while (listener.isOpen()) {
      try {
        SocketChannel ch = listener.accept();
        Thread t = new Thread(() -> serve(ch), "fake-kvhoard-connection");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(SocketChannel ch) {
    FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
    ByteBuf cumulation = Unpooled.buffer();
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
    try (ch) {
      while (ch.read(chunk.clear()) >= 0) {
        cumulation.writeBytes(chunk.flip());
        for (DecodeResult r; (r = reader.read(cumulation)) != null; ) {
          if (r instanceof FrameError e) {
            rejected.add(e.message());
            send(ch, Frame.error(e, alloc));
            if (e.fatal()) {
              return;
            }
          } else {
            Frame f = (Frame) r;
            try {
              received.add(
                  new Received(
                      f.opcode(),
                      f.requestId(),
                      f.version(),
                      f.namespaceId().toHex(),
                      f.blockCount()));
              send(ch, answer(f));
            } finally {
              f.release();
            }
          }
        }
        cumulation.discardReadBytes();
      }
    } catch (IOException e) {
      // the client closed the connection
    } finally {
      cumulation.release();
    }
  }

  private Frame answer(Frame f) {
    switch (f.opcode()) {
      case HELLO:
        return Frame.helloResponse(f.requestId(), 1, Hello.of(FrameLimits.DEFAULT), alloc);
      case PUT:
        try (FrameBuilder b = Frame.newResponse(f, alloc)) {
          for (int i = 0; i < f.blockCount(); i++) {
            byte[] key = f.key(i);
            if (!f.blockPayloadMatchesCrc(i)) {
              b.addStatus(key, BlockStatus.CHECKSUM_MISMATCH, BlockTier.UNKNOWN);
              continue;
            }
            ByteBuf payload = f.blockPayload(i);
            byte[] bytes = new byte[payload.readableBytes()];
            payload.getBytes(payload.readerIndex(), bytes);
            blocks.put(HEX.formatHex(key), bytes);
            b.addStatus(key, BlockStatus.OK, BlockTier.HOST);
          }
          return b.build();
        }
      case GET:
        try (FrameBuilder b = Frame.newResponse(f, alloc)) {
          for (int i = 0; i < f.blockCount(); i++) {
            byte[] key = f.key(i);
            byte[] bytes = blocks.get(HEX.formatHex(key));
            if (bytes == null) {
              b.addStatus(key, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN);
              continue;
            }
            ByteBuf payload = Unpooled.copiedBuffer(bytes);
            int crc = FrameCodec.crc32c(payload, 0, bytes.length);
            if (corruptGets) {
              payload.setByte(bytes.length / 2, payload.getByte(bytes.length / 2) ^ 1);
            }
            b.addHit(key, payload, crc, BlockTier.HOST);
          }
          return b.build();
        }
      default:
        return Frame.error(
            f.opcode(),
            f.requestId(),
            FrameStatus.INTERNAL,
            "the fake serves HELLO, PUT and GET only",
            alloc);
    }
  }

  private void send(SocketChannel ch, Frame frame) throws IOException {
    ByteBuf wire;
    try {
      wire = FrameCodec.encode(frame, alloc);
    } finally {
      frame.release();
    }
    try {
      for (ByteBuffer b : wire.nioBuffers()) {
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
    } finally {
      wire.release();
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
