package io.kvhoard.perf.bench;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.host.HostTier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Host tier put + get of one block (reserve, write, commit, lease, copy out, release, remove)
 * against its limit, the two memcpys the same bytes need (into the tier, out of it) between plain
 * direct buffers, in the same run. Goal: ≥ 0.8 × memcpy for 2 MiB and up.
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro HostTier} (add {@code --threads 2}
 * for two threads on one shared tier).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HostTierBenchmark {
  /** One tier shared by every benchmark thread. */
  @State(Scope.Benchmark)
  public static class Shared {
    @Param({"262144", "2097152", "33554432"})
    public int blockBytes;

    HostTier tier;
    final AtomicLong keys = new AtomicLong();

    @Setup(Level.Trial)
    public void open() throws StoreException {
      tier = HostTier.newBuilder().capacityBytes(512L << 20).build();
    }

    @TearDown(Level.Trial)
    public void close() {
      tier.close();
    }
  }

  /** Each thread's source, destination and staging buffers. */
  @State(Scope.Thread)
  public static class Buffers {
    ByteBuf src;
    ByteBuf dst;
    ByteBuf mid;

    @Setup(Level.Trial)
    public void allocate(Shared s) {
      byte[] data = new byte[s.blockBytes];
      new SplittableRandom(3).nextBytes(data);
      src = Unpooled.directBuffer(s.blockBytes).writeBytes(data);
      dst = Unpooled.directBuffer(s.blockBytes);
      mid = Unpooled.directBuffer(s.blockBytes);
    }

    @TearDown(Level.Trial)
    public void free() {
      src.release();
      dst.release();
      mid.release();
    }
  }

  /** Ours: put the block into the host tier and get it back out into the caller's buffer. */
  @Benchmark
  public int putGet(Shared s, Buffers b) throws StoreException {
    long n = s.keys.incrementAndGet();
    StoreKey key = new StoreKey(NamespaceId.of(0, 1), BlockKey.of(keyBytes(n)));
    try (BlockWriter w = s.tier.reserve(key, s.blockBytes)) {
      w.write(0, b.src).join();
      w.commit(0).join();
    }
    BlockLease lease = s.tier.read(key).join();
    try {
      b.dst.clear();
      lease.copyTo(b.dst).join();
    } finally {
      lease.release();
    }
    s.tier.remove(key);
    return b.dst.writerIndex();
  }

  /** The limit: the same two copies, source → staging → destination, between direct buffers. */
  @Benchmark
  public int baselineMemcpy(Shared s, Buffers b) {
    b.mid.clear();
    b.mid.writeBytes(b.src, b.src.readerIndex(), b.src.readableBytes());
    b.dst.clear();
    b.dst.writeBytes(b.mid, 0, b.mid.writerIndex());
    return b.dst.writerIndex();
  }

  private static byte[] keyBytes(long n) {
    byte[] k = new byte[32];
    for (int i = 0; i < 8; i++) {
      k[i] = (byte) (n >>> (8 * i));
    }
    return k;
  }
}
