package io.kvhoard.perf.bench;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.Pin;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TierKind;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.directory.DirectoryEntry;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The block directory (Chronicle Map, off-heap) with 10 million entries: random lookups and
 * last-access updates per second, against the same operations on the obvious alternative, a {@code
 * ConcurrentHashMap} of the same keys and entries on the Java heap, in the same run. Each fork
 * prints the bytes per entry of both (the directory's off-heap size; the heap map's growth of the
 * used heap after a full GC).
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro Directory} (about 1 GB off-heap and 3
 * GB of heap per fork; the forks get {@code -Xmx6g} and Chronicle's JVM flags).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgs = "-Xmx6g") // Chronicle's flags: MicroCommand gives them to every fork
public class DirectoryBenchmark {
  private static final NamespaceId NS = NamespaceId.of(0x6b76, 1);

  /** The directory, filled with {@link #entries} blocks. */
  @State(Scope.Benchmark)
  public static class OffHeap {
    @Param({"10000000"})
    public int entries;

    BlockDirectory directory;

    @Setup(Level.Trial)
    public void fill() throws StoreException {
      directory = BlockDirectory.inMemory(entries);
      for (int i = 0; i < entries; i++) {
        directory.put(key(i), entry(i));
      }
      System.out.printf(
          "%ndirectory: %d entries, %.1f bytes/entry off-heap%n",
          directory.size(), (double) directory.offHeapBytes() / entries);
    }

    @TearDown(Level.Trial)
    public void close() {
      directory.close();
    }
  }

  /** The peer: the same keys and entries in a heap map. */
  @State(Scope.Benchmark)
  public static class OnHeap {
    @Param({"10000000"})
    public int entries;

    ConcurrentHashMap<StoreKey, DirectoryEntry> map;

    @Setup(Level.Trial)
    public void fill() {
      long before = usedHeapAfterGc();
      map = new ConcurrentHashMap<>(entries * 2);
      for (int i = 0; i < entries; i++) {
        map.put(key(i), entry(i));
      }
      long after = usedHeapAfterGc();
      System.out.printf(
          "%nheap map: %d entries, %.1f bytes/entry on the heap%n",
          map.size(), (double) (after - before) / entries);
    }
  }

  /** Each thread's random stream of existing keys. */
  @State(Scope.Thread)
  public static class Cursor {
    final SplittableRandom random = new SplittableRandom(7);
    long clock;
  }

  @Benchmark
  public DirectoryEntry lookup(OffHeap s, Cursor c) {
    return s.directory.get(key(c.random.nextInt(s.entries)));
  }

  @Benchmark
  public DirectoryEntry update(OffHeap s, Cursor c) throws StoreException {
    long now = ++c.clock;
    return s.directory.update(key(c.random.nextInt(s.entries)), e -> e.accessedAt(now));
  }

  @Benchmark
  public DirectoryEntry baselineHeapLookup(OnHeap s, Cursor c) {
    return s.map.get(key(c.random.nextInt(s.entries)));
  }

  @Benchmark
  public DirectoryEntry baselineHeapUpdate(OnHeap s, Cursor c) {
    long now = ++c.clock;
    return s.map.computeIfPresent(key(c.random.nextInt(s.entries)), (k, e) -> e.accessedAt(now));
  }

  /** Key i: 32 bytes mixed from i (a stand-in for a SHA-256 prefix key). */
  static StoreKey key(long i) {
    byte[] b = new byte[BlockKey.BYTES];
    long x = i * 0x9E3779B97F4A7C15L + 1;
    for (int w = 0; w < 4; w++) {
      x ^= x >>> 31;
      x *= 0xBF58476D1CE4E5B9L;
      x ^= x >>> 29;
      for (int j = 0; j < 8; j++) {
        b[w * 8 + j] = (byte) (x >>> (8 * j));
      }
    }
    return new StoreKey(NS, BlockKey.of(b));
  }

  static DirectoryEntry entry(long i) {
    return new DirectoryEntry(
        DirectoryEntry.bit(i % 3 == 0 ? TierKind.HOST : TierKind.DISK),
        2L << 20,
        (int) i,
        i % 16 == 0 ? null : key(i - 1).key(),
        16,
        Pin.NONE,
        i);
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
