package io.kvhoard.client.discovery;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A cache server's data-plane address. Its text form {@code host:port} is also its identity for
 * placement: every client of a cluster must name a server the same way (all by IP, as DNS discovery
 * does, or all by the same host names) to agree on which server holds a key.
 *
 * <p>Immutable and thread-safe.
 *
 * @param host a host name or IP literal, not blank
 * @param port a TCP port in [1, 65535]
 */
public record ServerAddress(String host, int port) {

  /** Validates both fields. */
  public ServerAddress {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("a server's host must not be blank");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
  }

  /**
   * Parses {@code host:port} ({@code [v6]:port} for an IPv6 literal).
   *
   * @throws IllegalArgumentException naming the text when it is not {@code host:port}
   */
  public static ServerAddress parse(String text) {
    Objects.requireNonNull(text, "text");
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("a server is HOST:PORT, got '" + text + "'");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new ServerAddress(host, Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a server is HOST:PORT, got '" + text + "'", e);
    }
  }

  /** The socket address (resolves the host name if it is not an IP literal). */
  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  /** {@code host:port}: the form placement hashes. */
  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
