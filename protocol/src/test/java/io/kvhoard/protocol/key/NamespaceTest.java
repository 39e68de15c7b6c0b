package io.kvhoard.protocol.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NamespaceTest {
  private static final KvLayout QWEN3_06B = KvLayout.of(28, 8, 128, DType.BFLOAT16, 16);

  private static Namespace.Builder qwen() {
    return Namespace.newBuilder().modelId("Qwen/Qwen3-0.6B").layout(QWEN3_06B).hashSeed("42");
  }

  @Test
  void id_matchesIndependentCbor2Derivation() {
    // python3: sha256(cbor2.dumps(["kvhoard-namespace",1,"Qwen/Qwen3-0.6B",28,8,128,"BFLOAT16",
    //   16,0,1,salt,lora,"42"], canonical=True))[:16]
    assertEquals("b8dd3c85537d17a855010d24111cf8bd", qwen().build().id().toHex());
    assertEquals(
        "b207a5e63f0d51ee0554ab76325904cf",
        qwen().cacheSalt("tenant-a").loraName("Alice").build().id().toHex());
  }

  @Test
  void id_anyFieldChanged_differs() {
    List<Namespace> variants =
        List.of(
            qwen().build(),
            qwen().modelId("Qwen/Qwen3-1.7B").build(),
            qwen().layout(KvLayout.of(28, 8, 128, DType.FLOAT16, 16)).build(),
            qwen().layout(KvLayout.of(28, 8, 128, DType.BFLOAT16, 32)).build(),
            qwen().layout(new KvLayout(28, 8, 128, DType.BFLOAT16, 16, 1, 2)).build(),
            qwen().formatVersion(2).build(),
            qwen().cacheSalt("tenant-a").build(),
            qwen().cacheSalt("tenant-b").build(),
            qwen().loraName("Alice").build(),
            qwen().hashSeed("43").build());
    Set<NamespaceId> ids = variants.stream().map(Namespace::id).collect(Collectors.toSet());
    assertEquals(variants.size(), ids.size());
  }

  @Test
  void equals_sameFields_equalAndSameId() {
    assertEquals(qwen().build(), qwen().build());
    assertEquals(qwen().build().id(), qwen().build().id());
    assertNotEquals(qwen().build(), qwen().cacheSalt("x").build());
  }

  @Test
  void hasher_carriesSeedBlockSizeLoraAndSalt() {
    Namespace ns = qwen().loraName("Alice").cacheSalt("tenant-a").build();
    PrefixHasher expected =
        PrefixHasher.newBuilder()
            .seed("42")
            .blockSize(16)
            .extraKey("Alice")
            .cacheSalt("tenant-a")
            .build();
    long[] tokens = java.util.stream.LongStream.range(0, 64).toArray();
    assertEquals(expected.hash(tokens), ns.hasher().hash(tokens));
  }

  @Test
  void toString_hidesSaltValue() {
    String s = qwen().cacheSalt("secret-salt").build().toString();
    assertTrue(s.contains("salted"), s);
    assertTrue(!s.contains("secret-salt"), s);
  }

  @Test
  void build_missingField_namesIt() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> Namespace.newBuilder().modelId("m").layout(QWEN3_06B).build());
    assertTrue(e.getMessage().contains("hashSeed"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Namespace.newBuilder().modelId(" "));
  }
}
