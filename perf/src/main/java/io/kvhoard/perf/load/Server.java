package io.kvhoard.perf.load;

import java.net.InetSocketAddress;
import java.util.OptionalLong;

/**
 * A server under load: where it listens and which process it is (for its CPU time). Closing it
 * stops the server if the benchmark started it; a server the benchmark only attached to is left
 * running.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
interface Server extends AutoCloseable {
  /** Where clients connect. */
  InetSocketAddress address();

  /** The server's process id, or empty when it is not known (a remote server). */
  OptionalLong pid();

  /** Stops the server if the benchmark started it. Never throws. */
  @Override
  void close();
}
