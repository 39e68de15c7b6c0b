package io.kvhoard.client.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MembershipTest {
  /** A DNS with records the test sets; a name can be made to fail. */
  static final class FakeDns implements DnsResolver {
    final Map<String, List<String>> a = new ConcurrentHashMap<>();
    final Map<String, List<SrvRecord>> srv = new ConcurrentHashMap<>();
    volatile boolean failing;

    @Override
    public List<String> addresses(String name) throws IOException {
      if (failing) {
        throw new IOException("SERVFAIL");
      }
      return a.getOrDefault(name, List.of());
    }

    @Override
    public List<SrvRecord> services(String name) throws IOException {
      if (failing) {
        throw new IOException("SERVFAIL");
      }
      return srv.getOrDefault(name, List.of());
    }
  }

  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final FakeDns dns = new FakeDns();

  Membership membership(ServerSource source) throws IOException {
    return new Membership(
        source,
        Duration.ofSeconds(30),
        Duration.ofMillis(100),
        Duration.ofMillis(800),
        now::get,
        null);
  }

  void advanceMillis(long ms) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void dnsA_resolvesEachAddressWithThePort_andRefreshSeesChanges() throws IOException {
    dns.a.put("kvhoard.ns.svc", List.of("10.0.0.1", "10.0.0.2"));
    try (Membership m = membership(DnsServerSource.addresses("kvhoard.ns.svc", 7470, dns))) {
      assertEquals(
          List.of(new ServerAddress("10.0.0.1", 7470), new ServerAddress("10.0.0.2", 7470)),
          m.live());
      dns.a.put("kvhoard.ns.svc", List.of("10.0.0.2", "10.0.0.3"));
      m.refresh();
      assertEquals(
          List.of(new ServerAddress("10.0.0.2", 7470), new ServerAddress("10.0.0.3", 7470)),
          m.known());
    }
  }

  @Test
  void dnsSrv_resolvesTargetsWithTheirPorts() throws IOException {
    dns.srv.put(
        "_data._tcp.kvhoard",
        List.of(
            new DnsResolver.SrvRecord(0, 50, 7470, "kvhoard-0.kvhoard"),
            new DnsResolver.SrvRecord(0, 50, 7480, "kvhoard-1.kvhoard")));
    dns.a.put("kvhoard-0.kvhoard", List.of("10.1.0.1"));
    dns.a.put("kvhoard-1.kvhoard", List.of("10.1.0.2"));
    try (Membership m = membership(DnsServerSource.services("_data._tcp.kvhoard", dns))) {
      assertEquals(
          List.of(new ServerAddress("10.1.0.1", 7470), new ServerAddress("10.1.0.2", 7480)),
          m.known());
    }
  }

  @Test
  void refresh_dnsFailsOrIsEmpty_keepsTheLastGoodList() throws IOException {
    dns.a.put("k", List.of("10.0.0.1"));
    try (Membership m = membership(DnsServerSource.addresses("k", 7470, dns))) {
      dns.failing = true;
      assertThrows(IOException.class, m::refresh);
      assertEquals(List.of(new ServerAddress("10.0.0.1", 7470)), m.known());
      dns.failing = false;
      dns.a.put("k", List.of());
      m.refresh();
      assertEquals(List.of(new ServerAddress("10.0.0.1", 7470)), m.known());
    }
  }

  @Test
  void start_noServer_fails() {
    assertThrows(IOException.class, () -> membership(DnsServerSource.addresses("none", 1, dns)));
  }

  @Test
  void failed_backsOffDoublingToTheMax_thenTriesAgain_successResets() throws IOException {
    ServerAddress a = new ServerAddress("10.0.0.1", 1);
    ServerAddress b = new ServerAddress("10.0.0.2", 1);
    try (Membership m = membership(ServerSource.of(List.of(a, b)))) {
      List<Long> outFor = new ArrayList<>();
      for (int failure = 1; failure <= 5; failure++) {
        m.failed(b);
        long ms = 0;
        while (!m.live().contains(b)) {
          assertEquals(List.of(a), m.live());
          advanceMillis(10);
          ms += 10;
        }
        outFor.add(ms);
      }
      assertEquals(List.of(100L, 200L, 400L, 800L, 800L), outFor);
      m.succeeded(b);
      m.failed(b);
      advanceMillis(100);
      assertTrue(m.live().contains(b), "a success resets the backoff to its initial value");
    }
  }

  @Test
  void refresh_removedServer_forgetsItsFailures() throws IOException {
    dns.a.put("k", List.of("10.0.0.1", "10.0.0.2"));
    try (Membership m = membership(DnsServerSource.addresses("k", 1, dns))) {
      m.failed(new ServerAddress("10.0.0.2", 1));
      dns.a.put("k", List.of("10.0.0.1"));
      m.refresh();
      dns.a.put("k", List.of("10.0.0.1", "10.0.0.2"));
      m.refresh();
      assertEquals(2, m.live().size(), "a server that left and came back starts clean");
    }
  }

  @Test
  void scheduler_refreshesPeriodically() throws Exception {
    dns.a.put("k", List.of("10.0.0.1"));
    var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try (Membership m =
        new Membership(
            DnsServerSource.addresses("k", 1, dns),
            Duration.ofMillis(20),
            Duration.ofMillis(100),
            Duration.ofMillis(100),
            now::get,
            scheduler)) {
      dns.a.put("k", List.of("10.0.0.9"));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!m.known().equals(List.of(new ServerAddress("10.0.0.9", 1)))
          && System.nanoTime() < until) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
      assertEquals(List.of(new ServerAddress("10.0.0.9", 1)), m.known());
    } finally {
      scheduler.shutdownNow();
    }
  }

  @Test
  void serverAddress_parse_formsAndErrors() {
    assertEquals(new ServerAddress("h", 7470), ServerAddress.parse("h:7470"));
    assertEquals(new ServerAddress("::1", 7), ServerAddress.parse("[::1]:7"));
    assertEquals("[::1]:7", new ServerAddress("::1", 7).toString());
    assertThrows(IllegalArgumentException.class, () -> ServerAddress.parse("h"));
    assertThrows(IllegalArgumentException.class, () -> ServerAddress.parse("h:x"));
    assertThrows(IllegalArgumentException.class, () -> ServerAddress.parse("h:70000"));
    assertThrows(
        IllegalArgumentException.class,
        () -> ServerSource.of(List.of(ServerAddress.parse("h:1"), ServerAddress.parse("h:1"))));
  }
}
