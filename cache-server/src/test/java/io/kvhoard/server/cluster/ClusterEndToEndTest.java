package io.kvhoard.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.client.BlockLocation;
import io.kvhoard.client.BlockMemory;
import io.kvhoard.client.KvHoardClient;
import io.kvhoard.client.LookupResult;
import io.kvhoard.client.RetrieveResult;
import io.kvhoard.client.StopReason;
import io.kvhoard.client.StoreResult;
import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.client.placement.Rendezvous;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.DType;
import io.kvhoard.protocol.key.KvLayout;
import io.kvhoard.protocol.key.Namespace;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against three real {@code kvhoard serve} processes on loopback: bit-exact sharing
 * between clients, and the never-block guarantees when a server is killed, stalled, or corrupts
 * blocks. Each test leaves the three servers running (a killed one is restarted), and uses its own
 * prompts and its own clients, so no test depends on another's state.
 */
@Timeout(120)
class ClusterEndToEndTest {
  /** 256 KiB blocks of 16 tokens: large enough that a retrieve of hundreds is in flight a while. */
  static final KvLayout LAYOUT = KvLayout.of(8, 4, 128, DType.BFLOAT16, 16);

  static final Namespace NS =
      Namespace.newBuilder().modelId("test/cluster").layout(LAYOUT).hashSeed("42").build();
  static final int BLOCK = (int) LAYOUT.bytesPerBlock();
  static final long SLACK_MS = 100;

  @TempDir static Path dir;
  static final ServerProcess[] servers = new ServerProcess[3];

  @BeforeAll
  static void startServers() throws Exception {
    List<CompletableFuture<ServerProcess>> starting = new ArrayList<>();
    for (int i = 0; i < servers.length; i++) {
      Path d = dir.resolve("server-" + i);
      starting.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return ServerProcess.start(d, 0, "160m");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    for (int i = 0; i < servers.length; i++) {
      servers[i] = starting.get(i).get(90, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopServers() {
    for (ServerProcess s : servers) {
      if (s != null) {
        s.close();
      }
    }
  }

  static List<ServerAddress> addresses() {
    List<ServerAddress> a = new ArrayList<>();
    for (ServerProcess s : servers) {
      a.add(s.address());
    }
    return a;
  }

  static KvHoardClient client(UnaryOperator<KvHoardClient.Builder> more) {
    return more.apply(
            KvHoardClient.newBuilder()
                .namespace(NS)
                .servers(addresses())
                .deadline(Duration.ofSeconds(10))
                .backoff(Duration.ofMillis(200), Duration.ofMillis(400)))
        .build();
  }

  static int[] prompt(long seed, int blocks) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] t = new int[blocks * LAYOUT.blockTokens()];
    for (int i = 0; i < t.length; i++) {
      t[i] = r.nextInt(151_000);
    }
    return t;
  }

  static ByteBuffer kv(long seed, int blocks) {
    ByteBuffer b = ByteBuffer.allocateDirect(blocks * BLOCK);
    SplittableRandom r = new SplittableRandom(seed);
    while (b.hasRemaining()) {
      b.putLong(r.nextLong());
    }
    return b.clear();
  }

  /** Whether blocks {@code [0, n)} of {@code a} and {@code b} are the same bytes. */
  static boolean samePrefix(ByteBuffer a, ByteBuffer b, int blocks) {
    return a.slice(0, blocks * BLOCK).equals(b.slice(0, blocks * BLOCK));
  }

  /** Index of the first block owned by {@code victim} when all three servers are live. */
  static int firstBlockOn(int[] tokens, ServerAddress victim) {
    List<BlockKey> keys = NS.hasher().hash(tokens);
    for (int i = 0; i < keys.size(); i++) {
      if (Rendezvous.owner(keys.get(i), addresses()).equals(victim)) {
        return i;
      }
    }
    throw new AssertionError("no block of the prompt lives on " + victim);
  }

  /** The server owning some block after block 0, and not block 0's: the prefix before it is > 0. */
  static int victimIndex(int[] tokens) {
    List<BlockKey> keys = NS.hasher().hash(tokens);
    ServerAddress first = Rendezvous.owner(keys.get(0), addresses());
    for (BlockKey k : keys) {
      ServerAddress o = Rendezvous.owner(k, addresses());
      if (!o.equals(first)) {
        return addresses().indexOf(o);
      }
    }
    throw new AssertionError("every block on one server");
  }

  static double counter(KvHoardClient c, String name, String tag, String value) {
    var m = c.meterRegistry().find(name).tag(tag, value).counter();
    return m == null ? 0 : m.count();
  }

  @Test
  void storedByOneClient_retrievedByAnother_bitExactFromThreeServers() {
    int blocks = 48;
    int[] tokens = prompt(1, blocks);
    ByteBuffer src = kv(1, blocks);
    try (KvHoardClient writer = client(b -> b);
        KvHoardClient reader = client(b -> b)) {
      StoreResult s = writer.store(tokens, BlockMemory.contiguous(src, BLOCK));
      assertEquals(new StoreResult(blocks, blocks, 0, StopReason.COMPLETE), s);
      StoreResult again = writer.store(tokens, BlockMemory.contiguous(src, BLOCK));
      assertEquals(new StoreResult(blocks, 0, blocks, StopReason.COMPLETE), again);

      LookupResult l = reader.lookup(tokens);
      assertEquals(blocks * 16, l.tokens());
      assertEquals(3, l.blocks().stream().map(BlockLocation::server).distinct().count());

      int[] longer = java.util.Arrays.copyOf(tokens, tokens.length + 5); // a partial tail block
      ByteBuffer dst = ByteBuffer.allocateDirect(blocks * BLOCK);
      RetrieveResult r = reader.retrieve(longer, BlockMemory.contiguous(dst, BLOCK));
      assertEquals(new RetrieveResult(blocks * 16, blocks, StopReason.COMPLETE), r);
      assertTrue(samePrefix(src, dst, blocks), "retrieved bytes differ from the stored ones");
      assertEquals(
          (double) blocks * BLOCK, counter(reader, "kvhoard.client.bytes", "op", "retrieve"));

      // Another prompt that shares only the first 10 blocks: the prefix stops at the fork.
      int[] forked = tokens.clone();
      forked[10 * 16 + 3] ^= 1;
      ByteBuffer dst2 = ByteBuffer.allocateDirect(blocks * BLOCK);
      RetrieveResult f = reader.retrieve(forked, BlockMemory.contiguous(dst2, BLOCK));
      assertEquals(new RetrieveResult(10 * 16, 10, StopReason.MISS), f);
      assertTrue(samePrefix(src, dst2, 10));
    }
  }

  @Test
  void
      killedServer_midRetrieve_returnsValidPrefixWithinDeadline_worksWithoutIt_usedAgainAfterRestart()
          throws Exception {
    int blocks = 192; // 48 MiB
    int[] tokens = prompt(2, blocks);
    ByteBuffer src = kv(2, blocks);
    int v = victimIndex(tokens);
    ServerProcess victim = servers[v];
    int firstOnVictim = firstBlockOn(tokens, victim.address());
    try (KvHoardClient writer = client(b -> b);
        KvHoardClient reader = client(b -> b)) {
      assertEquals(
          StopReason.COMPLETE, writer.store(tokens, BlockMemory.contiguous(src, BLOCK)).stop());

      // The victim stalls first, so the retrieve is surely in flight on it when it is killed.
      victim.stop();
      Duration deadline = Duration.ofSeconds(3);
      ByteBuffer dst = ByteBuffer.allocateDirect(blocks * BLOCK);
      long t0 = System.nanoTime();
      CompletableFuture<RetrieveResult> f =
          reader.retrieveAsync(tokens, BlockMemory.contiguous(dst, BLOCK), deadline);
      assertThrows(TimeoutException.class, () -> f.get(300, TimeUnit.MILLISECONDS));
      victim.kill9();
      RetrieveResult r = f.get();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms <= deadline.toMillis() + SLACK_MS, "took " + ms + " ms");
      assertEquals(firstOnVictim, r.blocks(), "the prefix ends at the victim's first block");
      assertEquals(StopReason.SERVER_FAILED, r.stop());
      assertTrue(samePrefix(src, dst, r.blocks()));
      assertTrue(counter(reader, "kvhoard.client.server.failures", "kind", "io") >= 1);

      // Without it: its blocks are placed elsewhere now (misses), and no call waits for it.
      ByteBuffer dst2 = ByteBuffer.allocateDirect(blocks * BLOCK);
      long t1 = System.nanoTime();
      RetrieveResult again = reader.retrieve(tokens, BlockMemory.contiguous(dst2, BLOCK));
      long ms2 = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
      assertEquals(firstOnVictim, again.blocks());
      assertTrue(ms2 < 1000, "a call without the dead server took " + ms2 + " ms");
      assertTrue(samePrefix(src, dst2, again.blocks()));
      int[] fresh = prompt(3, 24);
      ByteBuffer freshKv = kv(3, 24);
      StoreResult s = writer.store(fresh, BlockMemory.contiguous(freshKv, BLOCK));
      ByteBuffer freshDst = ByteBuffer.allocateDirect(24 * BLOCK);
      if (s.stop() == StopReason.COMPLETE) { // the writer may not have noticed the death yet
        RetrieveResult got = reader.retrieve(fresh, BlockMemory.contiguous(freshDst, BLOCK));
        assertEquals(24, got.blocks());
        assertTrue(samePrefix(freshKv, freshDst, 24));
      }

      // Restarted on its port, it is used again once its backoff ends.
      servers[v] =
          ServerProcess.start(dir.resolve("server-" + v + "-restarted"), victim.port(), "160m");
      boolean usedAgain = false;
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      for (int seed = 100; !usedAgain && System.nanoTime() < until; seed++) {
        int[] p = prompt(seed, 12);
        ByteBuffer pkv = kv(seed, 12);
        StoreResult ps = writer.store(p, BlockMemory.contiguous(pkv, BLOCK));
        LookupResult pl = reader.lookup(p);
        usedAgain =
            ps.stop() == StopReason.COMPLETE
                && pl.blocks().size() == 12
                && pl.blocks().stream().anyMatch(b -> b.server().equals(victim.address()));
        if (usedAgain) {
          ByteBuffer pdst = ByteBuffer.allocateDirect(12 * BLOCK);
          assertEquals(12, reader.retrieve(p, BlockMemory.contiguous(pdst, BLOCK)).blocks());
          assertTrue(samePrefix(pkv, pdst, 12));
        } else {
          TimeUnit.MILLISECONDS.sleep(100); // the backoff is real time
        }
      }
      assertTrue(usedAgain, "the restarted server was not used again within 20 s");
    }
  }

  @Test
  void stalledServer_sigstop_retrieveReturnsValidPrefixWithinDeadline() throws Exception {
    int blocks = 64;
    int[] tokens = prompt(5, blocks);
    ByteBuffer src = kv(5, blocks);
    int v = victimIndex(tokens);
    ServerProcess victim = servers[v];
    int firstOnVictim = firstBlockOn(tokens, victim.address());
    try (KvHoardClient writer = client(b -> b);
        KvHoardClient reader = client(b -> b)) {
      assertEquals(
          StopReason.COMPLETE, writer.store(tokens, BlockMemory.contiguous(src, BLOCK)).stop());
      // A pooled connection to the victim, so the stall hits an established connection.
      assertEquals(blocks, reader.lookup(tokens).blocks().size());
      victim.stop();
      try {
        Duration deadline = Duration.ofMillis(500);
        ByteBuffer dst = ByteBuffer.allocateDirect(blocks * BLOCK);
        long t0 = System.nanoTime();
        RetrieveResult r = reader.retrieve(tokens, BlockMemory.contiguous(dst, BLOCK), deadline);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms <= deadline.toMillis() + SLACK_MS, "took " + ms + " ms");
        assertEquals(new RetrieveResult(firstOnVictim * 16, firstOnVictim, StopReason.TIMEOUT), r);
        assertTrue(samePrefix(src, dst, firstOnVictim));
        assertTrue(counter(reader, "kvhoard.client.server.failures", "kind", "timeout") >= 1);

        // Backed off: the next call does not wait for it again.
        long t1 = System.nanoTime();
        RetrieveResult again =
            reader.retrieve(tokens, BlockMemory.contiguous(dst, BLOCK), deadline);
        long ms2 = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
        assertEquals(firstOnVictim, again.blocks());
        assertTrue(ms2 < deadline.toMillis(), "the second call took " + ms2 + " ms");
      } finally {
        victim.resume();
      }
    }
  }

  @Test
  void corruptingServer_prefixStopsBeforeItsFirstBlock_andTheMetricCountsIt() throws Exception {
    int blocks = 32;
    int[] tokens = prompt(7, blocks);
    ByteBuffer src = kv(7, blocks);
    try (CorruptingServer bad = new CorruptingServer()) {
      List<ServerAddress> mixed =
          List.of(servers[0].address(), servers[1].address(), bad.address());
      List<BlockKey> keys = NS.hasher().hash(tokens);
      int firstBad = 0;
      while (!Rendezvous.owner(keys.get(firstBad), mixed).equals(bad.address())) {
        firstBad++;
      }
      try (KvHoardClient c =
          KvHoardClient.newBuilder()
              .namespace(NS)
              .servers(mixed)
              .deadline(Duration.ofSeconds(10))
              .build()) {
        assertEquals(
            StopReason.COMPLETE, c.store(tokens, BlockMemory.contiguous(src, BLOCK)).stop());
        ByteBuffer dst = ByteBuffer.allocateDirect(blocks * BLOCK);
        RetrieveResult r = c.retrieve(tokens, BlockMemory.contiguous(dst, BLOCK));
        assertEquals(new RetrieveResult(firstBad * 16, firstBad, StopReason.CORRUPT), r);
        assertTrue(samePrefix(src, dst, firstBad));
        assertTrue(bad.corruptedSent() >= 1);
        assertEquals(
            (double) bad.corruptedSent(),
            counter(c, "kvhoard.client.server.failures", "kind", "corrupt"));
        assertTrue(counter(c, "kvhoard.client.blocks", "outcome", "corrupt") >= 1);
      }
      // Strict mode: the same corruption is thrown, as retriable.
      try (KvHoardClient strict =
          KvHoardClient.newBuilder().namespace(NS).servers(mixed).strict(true).build()) {
        ByteBuffer dst = ByteBuffer.allocateDirect(blocks * BLOCK);
        var e =
            assertThrows(
                io.kvhoard.client.CorruptBlockException.class,
                () -> strict.retrieve(tokens, BlockMemory.contiguous(dst, BLOCK)));
        assertTrue(e.isRetriable());
      }
    }
  }

  @Test
  void example_toyEngineWithPagedKvMemory_storesEvictsAndGetsPromptBackBitExact() {
    try (KvHoardClient kv = client(b -> b)) {
      ToyEngine engine = new ToyEngine(kv, 128);
      int[] prompt = prompt(11, 40);

      int[] table = engine.allocate(prompt); // the request's block table
      RetrieveResult first = engine.serve(prompt, table);
      assertEquals(0, first.blocks(), "a new prompt: nothing cached yet");
      assertTrue(engine.holdsComputedKv(prompt, table));

      engine.evict(table); // local KV gone
      assertFalse(engine.holdsComputedKv(prompt, table));

      int[] again = engine.allocate(prompt);
      RetrieveResult second = kv.retrieve(prompt, engine.pages(again));
      assertEquals(new RetrieveResult(40 * 16, 40, StopReason.COMPLETE), second);
      assertTrue(engine.holdsComputedKv(prompt, again), "the cluster's blocks are bit-exact");
    }
  }
}
