package io.kvhoard.server.store.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.StoreKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The host tier keeps blocks off the Java heap: a child JVM limited to {@code -Xmx256m} fills an 8
 * GiB host tier with 2 MiB blocks, reads every one back and checks it, and reports its peak heap.
 */
class SmallHeapTest {
  static final long CAPACITY = 8L << 30;
  static final int BLOCK = 2 << 20;

  @Test
  @Timeout(180)
  void eightGibTier_xmx256m_fillsAndReadsBack() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    // Used only if /dev/shm cannot take the slabs: direct buffers, still off the heap.
    cmd.add("-XX:MaxDirectMemorySize=9g");
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Filler.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(170, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "the child failed:\n" + out);
    assertTrue(out.contains("blocks=4096 verified=4096"), out);
  }

  /** The child: fill, verify, print. */
  static final class Filler {
    public static void main(String[] args) throws Exception {
      HostTier tier = HostTier.newBuilder().capacityBytes(CAPACITY).build();
      ByteBuf src = Unpooled.directBuffer(BLOCK);
      ByteBuf dst = Unpooled.directBuffer(BLOCK);
      int blocks = (int) (CAPACITY / BLOCK);
      for (int i = 0; i < blocks; i++) {
        src.clear().writerIndex(BLOCK);
        for (int j = 0; j < BLOCK; j += 4096) {
          src.setLong(j, i * 0x9E3779B97F4A7C15L + j); // a mark per 4 KiB page, checked later
        }
        try (BlockWriter w = tier.reserve(key(i), BLOCK)) {
          w.write(0, src).join();
          w.commit(i).join();
        }
      }
      int verified = 0;
      for (int i = 0; i < blocks; i++) {
        BlockLease lease = tier.read(key(i)).join();
        try {
          dst.clear();
          lease.copyTo(dst).join();
          boolean ok = true;
          for (int j = 0; j < BLOCK && ok; j += 4096) {
            ok = dst.getLong(j) == i * 0x9E3779B97F4A7C15L + j;
          }
          verified += ok ? 1 : 0;
        } finally {
          lease.release();
        }
      }
      long peakHeap = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peakHeap += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println(
          "blocks="
              + tier.blockCount()
              + " verified="
              + verified
              + " shared="
              + tier.sharedMemory()
              + " peakHeapMiB="
              + (peakHeap >> 20));
      src.release();
      dst.release();
      tier.close();
    }

    private static StoreKey key(int i) {
      byte[] b = new byte[32];
      b[0] = (byte) i;
      b[1] = (byte) (i >>> 8);
      return new StoreKey(NamespaceId.of(1, 1), BlockKey.of(b));
    }
  }
}
