package io.kvhoard.server.store.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.Pin;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TierKind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockDirectoryTest {
  @TempDir Path dir;

  static StoreKey key(long n) {
    byte[] b = new byte[32];
    new SplittableRandom(n).nextBytes(b);
    return new StoreKey(NamespaceId.of(n % 3, 7), BlockKey.of(b));
  }

  static DirectoryEntry entry(long n) {
    return new DirectoryEntry(
        DirectoryEntry.bit(n % 2 == 0 ? TierKind.HOST : TierKind.DISK),
        1000 + n,
        (int) (n * 0x9E3779B9L),
        n % 5 == 0 ? null : key(n - 1).key(),
        16,
        Pin.values()[(int) (n % 3)],
        n * 1000);
  }

  @Test
  void entry_encodeDecode_roundTripsEveryField() {
    for (long n = 0; n < 50; n++) {
      DirectoryEntry e = entry(n);
      byte[] out = new byte[DirectoryEntry.BYTES];
      e.encode(out);
      assertEquals(e, DirectoryEntry.decode(out));
    }
  }

  @Test
  void entry_decodeOfGarbage_isNullNotAWrongEntry() {
    assertNull(DirectoryEntry.decode(new byte[DirectoryEntry.BYTES]), "all zero: unknown format");
    assertNull(DirectoryEntry.decode(new byte[10]), "wrong size");
    byte[] out = new byte[DirectoryEntry.BYTES];
    entry(1).encode(out);
    out[2] = 9; // no such pin
    assertNull(DirectoryEntry.decode(out));
  }

  @Test
  void entry_invalidFields_rejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new DirectoryEntry(1, 0, 0, null, 16, Pin.NONE, 0),
        "zero length");
    assertThrows(
        IllegalArgumentException.class,
        () -> new DirectoryEntry(1, 10, 0, null, 0, Pin.NONE, 0),
        "zero tokens");
    assertThrows(
        IllegalArgumentException.class,
        () -> new DirectoryEntry(1 << 7, 10, 0, null, 1, Pin.NONE, 0),
        "unknown tier");
  }

  @Test
  void putGetUpdateRemove_behaveLikeAMap() throws StoreException {
    try (BlockDirectory d = BlockDirectory.inMemory(1000)) {
      assertNull(d.get(key(1)));
      d.put(key(1), entry(1));
      assertEquals(entry(1), d.get(key(1)));
      assertTrue(d.containsKey(key(1)));
      DirectoryEntry u = d.update(key(1), e -> e.with(TierKind.HOST));
      assertTrue(u.in(TierKind.HOST) && u.in(TierKind.DISK));
      assertEquals(u, d.get(key(1)));
      assertNull(d.update(key(1), e -> null), "null removes");
      assertFalse(d.containsKey(key(1)));
      assertNull(d.update(key(2), e -> e), "absent stays absent");
      assertEquals(0, d.size());
      d.put(key(3), entry(3));
      assertEquals(entry(3), d.remove(key(3)));
      assertNull(d.remove(key(3)));
    }
  }

  @Test
  void keysOfDifferentNamespaces_neverCollide() throws StoreException {
    try (BlockDirectory d = BlockDirectory.inMemory(100)) {
      BlockKey k = key(1).key();
      d.put(new StoreKey(NamespaceId.of(1, 1), k), entry(2));
      d.put(new StoreKey(NamespaceId.of(1, 2), k), entry(3));
      assertEquals(entry(2), d.get(new StoreKey(NamespaceId.of(1, 1), k)));
      assertEquals(entry(3), d.get(new StoreKey(NamespaceId.of(1, 2), k)));
    }
  }

  @Test
  void persisted_reopened_keepsEveryEntry() throws StoreException {
    Path f = dir.resolve("sub/directory.cm3");
    Map<StoreKey, DirectoryEntry> expected = new HashMap<>();
    try (BlockDirectory d = BlockDirectory.persisted(f, 5000)) {
      assertFalse(d.recovered());
      for (long n = 0; n < 3000; n++) {
        d.put(key(n), entry(n));
        expected.put(key(n), entry(n));
      }
      for (long n = 0; n < 3000; n += 7) {
        d.remove(key(n));
        expected.remove(key(n));
      }
    }
    try (BlockDirectory d = BlockDirectory.persisted(f, 5000)) {
      assertTrue(d.recovered());
      Map<StoreKey, DirectoryEntry> seen = new HashMap<>();
      d.forEach(seen::put);
      assertEquals(expected, seen);
      assertEquals(expected.size(), d.size());
    }
  }

  @Test
  void persisted_secondOpenWhileOpen_refusedClearly() throws StoreException {
    Path f = dir.resolve("directory.cm3");
    try (BlockDirectory d = BlockDirectory.persisted(f, 100)) {
      StoreException e = assertThrows(StoreException.class, () -> BlockDirectory.persisted(f, 100));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
      d.put(key(1), entry(1));
    }
    try (BlockDirectory d = BlockDirectory.persisted(f, 100)) {
      assertEquals(entry(1), d.get(key(1)), "reopened after the first closed");
    }
  }

  /** A child JVM fills a persisted directory and is killed with SIGKILL; nothing is lost. */
  @Test
  void persisted_afterKillDashNine_recoveredWithEveryEntry() throws Exception {
    Path f = dir.resolve("directory.cm3");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx64m");
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-Dchronicle") || a.startsWith("--sun-misc")) {
        cmd.add(a);
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Writer.class.getName()));
    cmd.add(f.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null && !line.equals("written")) {
        // Chronicle's start-up chatter
      }
      assertEquals("written", line, "the writer filled the directory");
      p.destroyForcibly(); // SIGKILL
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    }
    assertFalse(Files.exists(dir.resolve("directory.cm3.clean")), "it never closed");
    try (BlockDirectory d = BlockDirectory.persisted(f, Writer.COUNT)) {
      assertTrue(d.recovered());
      assertEquals(Writer.COUNT, d.size());
      for (long n = 0; n < Writer.COUNT; n++) {
        assertEquals(entry(n), d.get(key(n)), "entry " + n);
      }
    }
  }

  /** The process {@link #persisted_afterKillDashNine_recoveredWithEveryEntry} kills. */
  static final class Writer {
    static final int COUNT = 5000;

    public static void main(String[] args) throws Exception {
      BlockDirectory d = BlockDirectory.persisted(Path.of(args[0]), COUNT);
      for (long n = 0; n < COUNT; n++) {
        d.put(key(n), entry(n));
      }
      System.out.println("written");
      System.out.flush();
      Thread.sleep(60_000); // never closed: the parent kills this process
    }
  }

  @Test
  void persisted_garbageFile_movedAsideAndStartedEmpty() throws Exception {
    Path f = dir.resolve("directory.cm3");
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    try (BlockDirectory d = BlockDirectory.persisted(f, 100)) {
      assertEquals(0, d.size());
      assertFalse(d.recovered());
      d.put(key(1), entry(1));
      assertEquals(entry(1), d.get(key(1)));
    }
    assertTrue(Files.exists(dir.resolve("directory.cm3.corrupt")));
  }

  @Test
  void full_putFailsWithAClearStoreException_earlierEntriesIntact() throws StoreException {
    try (BlockDirectory d = BlockDirectory.inMemory(1024)) {
      StoreException e =
          assertThrows(
              StoreException.class,
              () -> {
                for (long n = 0; n < 1_000_000; n++) {
                  d.put(key(n), entry(n));
                }
              });
      assertTrue(e.getMessage().contains("block directory is full"), e.getMessage());
      long held = d.size();
      for (long n = 0; n < Math.min(held, 500); n++) {
        assertEquals(entry(n), d.get(key(n)));
      }
    }
  }

  @Test
  void concurrentUpdates_sameKeys_noLostUpdate() throws Exception {
    try (BlockDirectory d = BlockDirectory.inMemory(1000)) {
      for (long n = 0; n < 16; n++) {
        d.put(key(n), new DirectoryEntry(0, 1, 0, null, 1, Pin.NONE, 0));
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        Future<?>[] fs = new Future<?>[4];
        for (int t = 0; t < 4; t++) {
          fs[t] =
              pool.submit(
                  () -> {
                    for (int i = 0; i < 2000; i++) {
                      d.update(key(i % 16), e -> e.accessedAt(e.lastAccessMillis() + 1));
                    }
                    return null;
                  });
        }
        for (Future<?> f : fs) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      long total = 0;
      for (long n = 0; n < 16; n++) {
        total += d.get(key(n)).lastAccessMillis();
      }
      assertEquals(4 * 2000, total, "every increment applied exactly once");
    }
  }

  @Test
  void offHeapBytes_reported() throws StoreException, IOException {
    try (BlockDirectory d = BlockDirectory.inMemory(100_000)) {
      assertTrue(d.offHeapBytes() > 100_000L * (StoreKey.BYTES + 64) / 2);
    }
  }
}
