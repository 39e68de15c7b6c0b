package io.kvhoard.client.discovery;

import java.io.IOException;
import java.util.List;

/**
 * Where the list of cache servers comes from: a static list ({@link #of}) or DNS ({@link
 * DnsServerSource}). {@link Membership} asks it again periodically.
 *
 * <p>Implementations must be thread-safe; {@link #resolve()} may block (a DNS query) and is never
 * called on a request path.
 */
@FunctionalInterface
public interface ServerSource {
  /**
   * The servers now, in any order, without duplicates.
   *
   * @throws IOException if the list cannot be had now (the last good list stays in use)
   */
  List<ServerAddress> resolve() throws IOException;

  /** A fixed list. */
  static ServerSource of(List<ServerAddress> servers) {
    List<ServerAddress> copy = List.copyOf(servers);
    if (copy.isEmpty()) {
      throw new IllegalArgumentException("a static server list needs at least one server");
    }
    if (copy.stream().distinct().count() != copy.size()) {
      throw new IllegalArgumentException("the server list names a server twice: " + copy);
    }
    return () -> copy;
  }
}
