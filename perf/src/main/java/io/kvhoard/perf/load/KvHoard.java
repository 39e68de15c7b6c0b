package io.kvhoard.perf.load;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.OptionalLong;

/**
 * kvhoard's data plane as a target ({@link KvHoardConnection}). For now it attaches to a server
 * already running at a given address (the server's {@code serve} command comes with issue 4); its
 * process, for the CPU figure, is found from the listening port when the server is on this machine.
 * Starting the server itself belongs here once it exists.
 *
 * <p>Immutable and thread-safe.
 */
final class KvHoard implements Target {
  private final InetSocketAddress address;
  private final NamespaceId namespace;
  private final ByteBufAllocator alloc;
  private final ProcFs proc;

  KvHoard(InetSocketAddress address, NamespaceId namespace, ByteBufAllocator alloc, ProcFs proc) {
    this.address = address;
    this.namespace = namespace;
    this.alloc = alloc;
    this.proc = proc;
  }

  @Override
  public String name() {
    return "kvhoard";
  }

  @Override
  public String describe() {
    return "kvhoard data plane at " + address.getHostString() + ":" + address.getPort();
  }

  @Override
  public Server start(int maxBlockBytes) throws IOException {
    try {
      SocketChannel.open(address).close();
    } catch (IOException e) {
      throw new IOException(
          "no kvhoard data plane answers at "
              + address
              + " ("
              + e.getMessage()
              + "); start the server first or fix --kvhoard",
          e);
    }
    OptionalLong pid =
        address.getAddress().isLoopbackAddress()
            ? proc.pidListeningOn(address.getPort())
            : OptionalLong.empty();
    return new Attached(address, pid);
  }

  @Override
  public Connection connect(InetSocketAddress address) throws IOException {
    return KvHoardConnection.open(address, namespace, alloc);
  }

  /** A server the benchmark did not start: closing it leaves it running. */
  private record Attached(InetSocketAddress address, OptionalLong pid) implements Server {
    @Override
    public void close() {}
  }
}
