package io.kvhoard.protocol.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KvLayoutTest {
  @Test
  void bytesPerToken_llama3_8b_is128KiB() {
    KvLayout llama = KvLayout.of(32, 8, 128, DType.BFLOAT16, 16);
    assertEquals(128 * 1024, llama.bytesPerToken());
    assertEquals(2 * 1024 * 1024, llama.bytesPerBlock());
  }

  @Test
  void bytesPerBlock_qwen3_06b_is1_75MiB() {
    assertEquals(
        1_835_008L, KvLayout.of(28, 8, 128, DType.BFLOAT16, 16).bytesPerBlock(), "1.75 MiB");
  }

  @Test
  void bytesPerBlock_tensorParallel_splitsOrReplicatesHeads() {
    assertEquals(
        KvLayout.of(32, 2, 128, DType.BFLOAT16, 16).bytesPerBlock(),
        new KvLayout(32, 8, 128, DType.BFLOAT16, 16, 3, 4).bytesPerBlock());
    assertEquals(
        KvLayout.of(32, 1, 128, DType.BFLOAT16, 16).bytesPerBlock(),
        new KvLayout(32, 4, 128, DType.BFLOAT16, 16, 7, 8).bytesPerBlock(),
        "fewer KV heads than ranks: one replicated head per rank");
  }

  @Test
  void new_invalidField_messageNamesField() {
    IllegalArgumentException layers =
        assertThrows(IllegalArgumentException.class, () -> KvLayout.of(0, 8, 128, DType.INT8, 16));
    assertTrue(layers.getMessage().startsWith("layers"), layers.getMessage());
    IllegalArgumentException rank =
        assertThrows(
            IllegalArgumentException.class, () -> new KvLayout(1, 8, 128, DType.INT8, 16, 2, 2));
    assertTrue(rank.getMessage().contains("tpRank"), rank.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new KvLayout(1, 6, 128, DType.INT8, 16, 0, 4));
    assertThrows(
        ArithmeticException.class,
        () -> KvLayout.of(Integer.MAX_VALUE, 1 << 20, 1 << 20, DType.FLOAT32, 1 << 20));
  }

  @Test
  void dtypeParse_engineSpellings_accepted() {
    assertEquals(DType.BFLOAT16, DType.parse("bf16"));
    assertEquals(DType.BFLOAT16, DType.parse("BFloat16"));
    assertEquals(DType.FP8_E4M3, DType.parse("float8_e4m3fn"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DType.parse("fp4"));
    assertTrue(e.getMessage().contains("bf16"), e.getMessage());
  }
}
