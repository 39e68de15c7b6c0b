package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A server that answers GETs wrongly fails the measurement instead of winning it. */
class WrongBlockTest {
  /** How the lying server answers a GET. */
  private enum Lie {
    ANOTHER_KEYS_BLOCK,
    SHORT_BLOCK,
    NOT_FOUND
  }

  private ServerSocketChannel listener;

  /** Speaks the raw pump's protocol, stores nothing, and answers every GET with {@code lie}. */
  private InetSocketAddress lyingServer(Lie lie) throws IOException {
    listener = ServerSocketChannel.open();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread t =
        new Thread(
            () -> {
              while (listener.isOpen()) {
                try {
                  SocketChannel ch = listener.accept();
                  Thread c = new Thread(() -> serve(ch, lie));
                  c.setDaemon(true);
                  c.start();
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return (InetSocketAddress) listener.getLocalAddress();
  }

  private static void serve(SocketChannel ch, Lie lie) {
    ByteBuffer header = ByteBuffer.allocate(RawPumpServer.REQUEST_HEADER_BYTES);
    try (ch) {
      while (true) {
        header.clear();
        while (header.hasRemaining()) {
          if (ch.read(header) < 0) {
            return;
          }
        }
        long id = header.getLong(1);
        int length = header.getInt(9);
        if (header.get(0) == RawPumpServer.PUT) {
          ByteBuffer sink = ByteBuffer.allocate(length);
          while (sink.hasRemaining()) {
            ch.read(sink);
          }
          write(ch, ByteBuffer.wrap(new byte[] {RawPumpServer.OK}));
          continue;
        }
        int n = lie == Lie.SHORT_BLOCK ? 4096 : 64 << 10;
        ByteBuffer block = Harness.block(n, lie == Lie.ANOTHER_KEYS_BLOCK ? id + 1 : id);
        ByteBuffer answer = ByteBuffer.allocate(5);
        answer.put(lie == Lie.NOT_FOUND ? RawPumpServer.NOT_FOUND : RawPumpServer.OK);
        answer.putInt(lie == Lie.NOT_FOUND ? 0 : n).flip();
        write(ch, answer);
        if (lie != Lie.NOT_FOUND) {
          write(ch, block);
        }
      }
    } catch (IOException e) {
      // the client closed the connection
    }
  }

  private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  @AfterEach
  void close() throws IOException {
    listener.close();
  }

  private static IOException measureGet(InetSocketAddress address) {
    Target target = new RawPump(null, null, null, 1); // connect() only: the server is the liar
    return assertThrows(
        IOException.class,
        () ->
            Harness.run(64 << 10, 2)
                .measure(
                    target,
                    Harness.attached(address, OptionalLong.empty()),
                    Harness.plan(Op.GET, 2, 1 << 20, 256 << 10, 1L << 40)));
  }

  @Test
  void get_anotherKeysBlock_failsTheMeasurement() throws IOException {
    IOException e = measureGet(lyingServer(Lie.ANOTHER_KEYS_BLOCK));
    assertTrue(e instanceof WrongBlockException, e.toString());
    assertTrue(e.getMessage().contains("wrong bytes"), e.getMessage());
  }

  @Test
  void get_shortBlock_failsTheMeasurement() throws IOException {
    IOException e = measureGet(lyingServer(Lie.SHORT_BLOCK));
    assertTrue(e instanceof WrongBlockException, e.toString());
    assertTrue(e.getMessage().contains("4096 bytes"), e.getMessage());
  }

  @Test
  void get_missOfAStoredKey_failsTheMeasurement() throws IOException {
    IOException e = measureGet(lyingServer(Lie.NOT_FOUND));
    assertTrue(e instanceof WrongBlockException, e.toString());
    assertTrue(e.getMessage().contains("does not hold key"), e.getMessage());
  }
}
