package io.kvhoard.client.discovery;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Servers from DNS, as a Kubernetes headless Service publishes them: the A records of a name (one
 * per ready pod) with a fixed port, or the SRV records of a named port ({@code
 * _data._tcp.kvhoard.ns.svc.cluster.local}), each target resolved to its addresses. Addresses are
 * IPs, so every client names a server the same way (see {@link ServerAddress}).
 *
 * <p>Immutable and thread-safe.
 */
public final class DnsServerSource implements ServerSource {
  private final String name;
  private final int port; // 0: SRV
  private final DnsResolver resolver;

  private DnsServerSource(String name, int port, DnsResolver resolver) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a DNS name must not be blank");
    }
    this.name = name;
    this.port = port;
    this.resolver = Objects.requireNonNull(resolver, "resolver");
  }

  /** The A/AAAA records of {@code name}, each with {@code port}. */
  public static DnsServerSource addresses(String name, int port, DnsResolver resolver) {
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
    return new DnsServerSource(name, port, resolver);
  }

  /** The SRV records of {@code name}: each target's addresses with the record's port. */
  public static DnsServerSource services(String name, DnsResolver resolver) {
    return new DnsServerSource(name, 0, resolver);
  }

  @Override
  public List<ServerAddress> resolve() throws IOException {
    Set<ServerAddress> out = new LinkedHashSet<>();
    if (port > 0) {
      for (String ip : resolver.addresses(name)) {
        out.add(new ServerAddress(ip, port));
      }
    } else {
      for (DnsResolver.SrvRecord srv : resolver.services(name)) {
        for (String ip : resolver.addresses(srv.target())) {
          out.add(new ServerAddress(ip, srv.port()));
        }
      }
    }
    return new ArrayList<>(out);
  }

  @Override
  public String toString() {
    return (port > 0 ? "DNS A " + name + " port " + port : "DNS SRV " + name);
  }
}
