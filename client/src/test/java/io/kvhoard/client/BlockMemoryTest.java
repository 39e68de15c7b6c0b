package io.kvhoard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockMemoryTest {
  @Test
  void contiguous_blockI_isAtIBlockBytes_andAsManyAsFit() {
    ByteBuffer b = ByteBuffer.allocateDirect(10 * 64 + 63);
    BlockMemory m = BlockMemory.contiguous(b, 64);
    assertEquals(10, m.blocks());
    m.block(3).put(0, (byte) 7);
    assertEquals(7, b.get(3 * 64));
    ByteBuffer v = m.block(9);
    assertEquals(0, v.position());
    assertEquals(64, v.limit());
    assertEquals(64, v.capacity());
    assertThrows(IndexOutOfBoundsException.class, () -> m.block(10));
  }

  @Test
  void pages_blockTable_mapsEachBlockToItsPage() {
    ByteBuffer pool = ByteBuffer.allocate(8 * 32);
    PageTable t = PageTable.pages(pool, 32, new int[] {5, 0, 7});
    assertEquals(3, t.blocks());
    assertEquals(5 * 32, t.offsetOf(0));
    assertEquals(7 * 32, t.offsetOf(2));
    t.block(2).put(31, (byte) 9);
    assertEquals(9, pool.get(7 * 32 + 31));
  }

  @Test
  void of_severalBuffers_blockIAtItsBufferAndOffset() {
    ByteBuffer a = ByteBuffer.allocate(100);
    ByteBuffer b = ByteBuffer.allocate(100);
    PageTable t = PageTable.of(16, List.of(a, b), new int[] {1, 0, 1}, new int[] {84, 0, 3});
    t.block(0).put(15, (byte) 1);
    t.block(2).put(0, (byte) 2);
    assertEquals(1, b.get(99));
    assertEquals(2, b.get(3));
    assertEquals(1, t.bufferOf(0));
  }

  @Test
  void of_pageOutsideItsBuffer_isRejectedNamingTheBlock() {
    ByteBuffer a = ByteBuffer.allocate(100);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PageTable.of(16, List.of(a), new int[] {0, 0}, new int[] {0, 85}));
    assertTrue(e.getMessage().contains("block 1"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> PageTable.of(16, List.of(a), new int[] {1}, new int[] {0}));
    assertThrows(
        IllegalArgumentException.class,
        () -> PageTable.of(16, List.of(a), new int[] {0}, new int[] {-1}));
  }

  @Test
  void of_overlappingPages_areRejected() {
    ByteBuffer a = ByteBuffer.allocate(100);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PageTable.of(16, List.of(a), new int[] {0, 0}, new int[] {32, 40}));
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    // the same offsets in different buffers do not overlap
    PageTable.of(16, List.of(a, ByteBuffer.allocate(100)), new int[] {0, 1}, new int[] {32, 32});
  }

  @Test
  void ofBlocks_wrongCapacity_isRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> BlockMemory.ofBlocks(List.of(ByteBuffer.allocate(16), ByteBuffer.allocate(15)), 16));
    assertEquals(
        2,
        BlockMemory.ofBlocks(List.of(ByteBuffer.allocate(16), ByteBuffer.allocate(16)), 16)
            .blocks());
  }

  @Test
  void block_viewsAreIndependent() {
    BlockMemory m = BlockMemory.contiguous(ByteBuffer.allocate(64), 32);
    ByteBuffer v = m.block(0);
    v.position(10);
    assertEquals(0, m.block(0).position());
  }
}
