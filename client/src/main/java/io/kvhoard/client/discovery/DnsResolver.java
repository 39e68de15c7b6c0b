package io.kvhoard.client.discovery;

import java.io.IOException;
import java.util.List;

/**
 * DNS queries, behind an interface so tests pass a fake. {@link #jndi()} is the JDK's own DNS
 * client (JNDI's DNS provider), which asks the servers of {@code /etc/resolv.conf} each time and
 * caches nothing, so a re-resolution sees a changed record at once.
 *
 * <p>Implementations must be thread-safe.
 */
public interface DnsResolver {
  /** The addresses of the A (and AAAA) records of {@code name}; empty if it has none. */
  List<String> addresses(String name) throws IOException;

  /** The SRV records of {@code name}; empty if it has none. */
  List<SrvRecord> services(String name) throws IOException;

  /**
   * One SRV record.
   *
   * @param priority lower is preferred (kept for callers; placement treats every target alike)
   * @param weight relative weight among equal priorities
   * @param port the service's port
   * @param target the host name, without a trailing dot
   */
  record SrvRecord(int priority, int weight, int port, String target) {}

  /** The JDK's DNS client (JNDI). */
  static DnsResolver jndi() {
    return new JndiDnsResolver();
  }
}
