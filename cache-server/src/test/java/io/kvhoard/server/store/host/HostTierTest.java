package io.kvhoard.server.store.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.Tier;
import io.kvhoard.server.store.TierContractTest;
import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class HostTierTest extends TierContractTest {
  private static final int PAGE = 64 * 1024;

  @Override
  protected Tier newTier() throws StoreException {
    return HostTier.newBuilder().capacityBytes(CAPACITY).pageSize(PAGE).build();
  }

  @Override
  protected int unit() {
    return PAGE;
  }

  @Override
  protected void assertInvariants(Tier t) {
    HostTier h = (HostTier) t;
    assertEquals(0, h.outstandingLeases(), "every lease released");
  }

  @Test
  void build_defaultDevShm_usesSharedMemory() {
    assertTrue(((HostTier) tier).sharedMemory(), "/dev/shm is writable here");
  }

  @Test
  void build_withoutSharedMemory_fallsBackToDirectBuffers() throws StoreException {
    try (HostTier direct =
        HostTier.newBuilder()
            .capacityBytes(1 << 20)
            .pageSize(PAGE)
            .sharedMemoryDirectory(null)
            .build()) {
      assertFalse(direct.sharedMemory());
      assertEquals(1 << 20, direct.capacityBytes());
    }
  }

  @Test
  void usedBytes_roundsUpToPages() throws StoreException {
    put(key(1), bytesOf(1, PAGE + 1));
    assertEquals(2L * PAGE, tier.usedBytes());
  }

  @Test
  void content_isAViewOfThePagesNotACopy() throws StoreException {
    byte[] data = bytesOf(1, 3 * PAGE);
    put(key(1), data);
    BlockLease lease = tier.read(key(1)).join();
    try {
      ByteBuf view = lease.content();
      assertEquals(data.length, view.readableBytes());
      assertTrue(view.isDirect(), "off-heap");
      assertEquals(3, view.nioBufferCount(), "one buffer per page, gathered by the socket");
      ByteBuffer[] pages = view.nioBuffers();
      // Write through a second lease's view is impossible (read-only); instead prove sharing:
      // a second lease's pages are the same memory as the first's.
      BlockLease again = tier.read(key(1)).join();
      try {
        ByteBuffer[] pages2 = again.content().nioBuffers();
        for (int i = 0; i < 3; i++) {
          assertEquals(address(pages[i]), address(pages2[i]));
        }
      } finally {
        again.release();
      }
      assertArrayEquals(data, readAll(view));
    } finally {
      lease.release();
    }
  }

  @Test
  void lease_afterRelease_unusable() throws StoreException {
    put(key(1), bytesOf(1, 10));
    BlockLease lease = tier.read(key(1)).join();
    lease.release();
    assertThrows(IllegalReferenceCountException.class, lease::content);
    assertThrows(IllegalReferenceCountException.class, lease::release);
  }

  @Test
  void build_badPageSizeOrCapacity_rejectedWithReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> HostTier.newBuilder().capacityBytes(1 << 20).pageSize(3000).build());
    assertTrue(e.getMessage().contains("power of two"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> HostTier.newBuilder().capacityBytes(1000).pageSize(4096).build());
    assertThrows(IllegalStateException.class, () -> HostTier.newBuilder().build());
  }

  private static long address(ByteBuffer b) {
    return io.netty.buffer.Unpooled.wrappedBuffer(b).memoryAddress();
  }

  @Test
  void pretouch_buildsBackedMemory_thatWorksLikeAnyOther() throws Exception {
    try (HostTier t =
        HostTier.newBuilder().capacityBytes(4 << 20).pageSize(PAGE).pretouch(true).build()) {
      byte[] data = bytesOf(9, 3 * PAGE + 1);
      try (io.kvhoard.server.store.BlockWriter w = t.reserve(key(9), data.length)) {
        w.write(0, io.netty.buffer.Unpooled.wrappedBuffer(data)).join();
        assertTrue(w.commit(crc(data)).join());
      }
      BlockLease l = t.read(key(9)).join();
      try {
        byte[] got = new byte[data.length];
        l.content().getBytes(0, got);
        assertArrayEquals(data, got);
      } finally {
        l.release();
      }
    }
  }

  /** A tmpfs smaller than the tier: direct buffers instead of a mapping that would fault. */
  @Test
  void build_sharedMemoryTooSmall_fallsBackToDirectBuffers(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path small = dir.resolve("shm");
    java.nio.file.Files.createDirectories(small);
    Process mount =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
            .redirectErrorStream(true)
            .start();
    mount.getInputStream().readAllBytes();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        mount.waitFor() == 0, "mounting a tmpfs needs root");
    try (HostTier t =
        HostTier.newBuilder()
            .capacityBytes(4 << 20)
            .pageSize(PAGE)
            .sharedMemoryDirectory(small)
            .build()) {
      assertFalse(t.sharedMemory(), "4 MiB cannot be mapped from a 1 MiB tmpfs");
      byte[] data = bytesOf(3, 2 << 20);
      try (io.kvhoard.server.store.BlockWriter w = t.reserve(key(3), data.length)) {
        w.write(0, io.netty.buffer.Unpooled.wrappedBuffer(data)).join();
        assertTrue(w.commit(crc(data)).join());
      }
    } finally {
      new ProcessBuilder("umount", small.toString()).start().waitFor();
    }
  }
}
