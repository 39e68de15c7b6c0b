package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BlockContentTest {
  private static ByteBuffer copy(ByteBuffer b) {
    ByteBuffer c = ByteBuffer.allocate(b.remaining());
    c.put(b.duplicate()).flip();
    return c;
  }

  @Test
  void verify_stampedBlock_passes() {
    ByteBuffer block = BlockContent.newBlock(4096, 1);
    BlockContent.stamp(block, 42);
    assertDoesNotThrow(() -> BlockContent.verify("x", 42, 4096, copy(block)));
  }

  @Test
  void verify_anotherKeysBlock_isWrong() {
    ByteBuffer block = BlockContent.newBlock(4096, 1);
    BlockContent.stamp(block, 41);
    WrongBlockException e =
        assertThrows(
            WrongBlockException.class, () -> BlockContent.verify("sys", 42, 4096, copy(block)));
    assertTrue(e.getMessage().contains("sys returned the wrong bytes for key 2a"), e.getMessage());
  }

  @Test
  void verify_sameHeadOtherTail_isWrong() {
    ByteBuffer block = BlockContent.newBlock(4096, 1);
    BlockContent.stamp(block, 42);
    block.putLong(4088, 0);
    assertThrows(WrongBlockException.class, () -> BlockContent.verify("x", 42, 4096, copy(block)));
  }

  @Test
  void verify_shortBlock_isWrongAndSaysBothLengths() {
    ByteBuffer block = BlockContent.newBlock(4096, 1);
    BlockContent.stamp(block, 42);
    ByteBuffer shorter = copy(block).limit(4000);
    WrongBlockException e =
        assertThrows(WrongBlockException.class, () -> BlockContent.verify("x", 42, 4096, shorter));
    assertTrue(e.getMessage().contains("4000 bytes") && e.getMessage().contains("4096"));
  }

  @Test
  void newBuffer_startsAtTheAskedPageOffset() {
    ByteBuffer aligned = BlockContent.newBuffer(10_000, 0);
    assertEquals(0, aligned.alignmentOffset(0, BlockContent.PAGE));
    assertEquals(10_000, aligned.capacity());
    ByteBuffer half = BlockContent.newBuffer(10_000, BlockContent.SOURCE_PAGE_OFFSET);
    assertEquals(BlockContent.SOURCE_PAGE_OFFSET, half.alignmentOffset(0, BlockContent.PAGE));
    assertTrue(half.isDirect());
  }

  @Test
  void newBlock_tooSmallForTheStamps_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> BlockContent.newBlock(15, 1));
  }
}
