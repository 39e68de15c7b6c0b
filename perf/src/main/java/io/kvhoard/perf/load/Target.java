package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * One system the load is driven against: kvhoard, a peer (memcached, Redis) or the raw pump. It
 * knows how to get a server of its kind ready (start one, or attach to a running one) and how a
 * client connection speaks its protocol on a raw socket.
 *
 * <p>Adding a system means adding one implementation: a {@link Connection} for its protocol and a
 * way to start or reach its server; the harness ({@link LoadRun}) is the same for all.
 *
 * <p>Implementations are immutable and thread-safe; {@link #connect} is called from one thread per
 * connection.
 */
interface Target {
  /**
   * The system's name in the output: {@code kvhoard}, {@code memcached}, {@code redis}, {@code
   * raw}.
   */
  String name();

  /** What runs, for the report: version and the settings that matter, on one line. */
  String describe();

  /**
   * A server ready for blocks of up to {@code maxBlockBytes}, started for this measurement or one
   * already running. The caller closes it.
   *
   * @throws IOException if the server could not be started or reached; the message says why and
   *     what to do
   */
  Server start(int maxBlockBytes) throws IOException;

  /** A new connection to the server at {@code address}. */
  Connection connect(InetSocketAddress address) throws IOException;
}
