package io.kvhoard.protocol.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.protocol.testing.SharedData;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reproduces vLLM's sha256_cbor block hashes: the 25 hashes of each file in {@code
 * shared/data/vectors/} (written by a real vLLM run), and edge cases whose expected digests come
 * from {@code src/test/python/edge_vectors.py} (hashlib + cbor2, the library vLLM uses), not from
 * this code.
 */
class PrefixHasherTest {
  private static final long[] PROMPT = LongStream.range(1000, 1048).toArray();
  private static final long[] BIG = {
    0,
    1,
    23,
    24,
    255,
    256,
    65535,
    65536,
    (1L << 32) - 1,
    1L << 32,
    (1L << 40) + 7,
    Long.MAX_VALUE,
    Long.MIN_VALUE, // 2^63 read as unsigned
    -1L, // 2^64 - 1 read as unsigned
    151643,
    42
  };

  @ParameterizedTest
  @ValueSource(strings = {"kv_event_base.json", "kv_event_lora.json"})
  void hash_vllmVectors_reproducesAll25BlockHashes(String file) throws IOException {
    JsonNode v = new ObjectMapper().readTree(SharedData.path("vectors/" + file).toFile());
    PrefixHasher.Builder b =
        PrefixHasher.newBuilder()
            .seed(v.get("hash_seed").asText())
            .blockSize(v.get("block_size").asInt());
    if (!v.get("lora_name").isNull()) {
      b.extraKey(v.get("lora_name").asText());
    }
    long[] tokens = new long[v.get("token_ids").size()];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = v.get("token_ids").get(i).asLong();
    }
    long[] expected = new long[v.get("block_hashes").size()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = new BigInteger(v.get("block_hashes").get(i).asText()).longValue();
    }

    long[] actual = b.build().eventHashes(tokens);

    assertEquals(25, expected.length, "the vector file should hold 25 hashes");
    assertArrayEquals(expected, actual);
  }

  @Test
  void eventHash_firstBlocks_matchPublishedValues() {
    // The two values the data README quotes, as unsigned decimals.
    assertEquals("17705339885301241772", firstEventHash(null));
    assertEquals("9643097150530800701", firstEventHash("Alice"));
  }

  private static String firstEventHash(String lora) {
    try {
      JsonNode v =
          new ObjectMapper().readTree(SharedData.path("vectors/kv_event_base.json").toFile());
      long[] tokens = new long[16];
      for (int i = 0; i < 16; i++) {
        tokens[i] = v.get("token_ids").get(i).asLong();
      }
      PrefixHasher.Builder b = PrefixHasher.newBuilder().seed("42").blockSize(16);
      if (lora != null) {
        b.extraKey(lora);
      }
      return Long.toUnsignedString(b.build().eventHashes(tokens)[0]);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void noneHash_seed42_isSha256OfCborText() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("42").blockSize(16).build();
    assertEquals(
        "9fa6eb003f14425eb9c8e6baacfbcaab26257357b829c7bfa74ffcc4f31c1780", h.noneHash().toHex());
  }

  @Test
  void hash_tokenIdsOfEveryCborWidth_matchCbor2() {
    assertHexes(
        PrefixHasher.newBuilder().seed("42").blockSize(16).build().hash(BIG),
        "ffdda41dc52e1725d3d531d8c732ffcd49a595d9c7ed4d45d6ff10d06c58a292");
    assertHexes(
        PrefixHasher.newBuilder().seed("42").blockSize(4).build().hash(BIG),
        "5accc84e2fa78c84d428cf8bee397cb0dfb391e047560b81b149bc8f6837bd68",
        "b5850bdc2b486c2623bc9d20b6d6fa721a00c2b34268da414619edbcd7b40749",
        "9a76b52e9bbd32394247d16adcb4f1e91cce46fab99e5f57a54a20916084b8ea",
        "648ba35fead68a0e0ee70062e2533925f8784890999cbc8b7128086cf16a7986");
  }

  @Test
  void hash_cacheSalt_entersFirstBlockOnly() {
    assertHexes(
        PrefixHasher.newBuilder()
            .seed("42")
            .blockSize(16)
            .cacheSalt("tenant-a")
            .build()
            .hash(PROMPT),
        "a1d52d6a9495693d556b36eb893e15dbd20a1f4827c4ea4e2d42591e2ec0eec3",
        "f2bbb08a2d54b1209be90f51679483bb75a2e5e09ed8d592c2928d81772cfa08",
        "c9e0ac39c47f4212e850d7dfecdc28c334af18ffbc240a59f724c8dd9a2083ed");
  }

  @Test
  void hash_loraAndSalt_extraKeysBeforeSalt() {
    assertHexes(
        PrefixHasher.newBuilder()
            .seed("42")
            .blockSize(16)
            .extraKey("Alice")
            .cacheSalt("tenant-a")
            .build()
            .hash(PROMPT),
        "64c796d43110d3e9f8e6507014bd7e4f5bfa6d160868659003a9917bde1fa3e4",
        "563b00eea894397f640ba6f0300b84f867a49a19a04f0b4de2a696ca39aa7e9b",
        "c010d84216d310064ce7b2fff233f1c423e8ab479fe9a63fe67da35eb526796a");
  }

  @Test
  void hash_seedThatIsNotANumber_hashedAsText() {
    assertHexes(
        PrefixHasher.newBuilder().seed("not-a-number").blockSize(16).build().hash(PROMPT),
        "08539d205038bcf955e2992f8be19a1078d69407e7f1218747684edcff1c39b0",
        "b2a447ab690ee2b464151acadb09136e9088d96cc251a6f0a27f1d0024527e86",
        "73cc5b5016b903f76eb53e92e589d8ad3682e081629c6a0fa8c5e0f8439fd99e");
    assertHexes(
        PrefixHasher.newBuilder()
            .seed("a seed longer than twenty-three bytes \u79cd\u5b50")
            .blockSize(16)
            .build()
            .hash(PROMPT),
        "d677f61cc7d6dd3f8d67e3497ca1cebc5538feae55f52c8a28cf4ae9676f5511",
        "e4c7134dacf75e4ebb2c7e047c22cc45fccfce4c209e45adbf74a858de2ffe72",
        "7dcddfa318f8ac75a5b225d4c308334b80c9d82baab2091c9779ce38b871e2d3");
  }

  @Test
  void hash_trailingPartialBlock_isNotKeyed() {
    long[] tokens = java.util.Arrays.copyOf(PROMPT, 40);
    assertHexes(
        PrefixHasher.newBuilder().seed("0").blockSize(16).build().hash(tokens),
        "749fdc796f99efd836e0126282116392f5a5e4ea5c7ed009f2f58c385525a1f5",
        "2d5697df551c58c422455b94c9c0db1ddfc2a375c20b0014c82e2a1e69c1d12a");
  }

  @Test
  void hash_emptyOrShorterThanABlock_returnsNoKeys() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("42").blockSize(16).build();
    assertTrue(h.hash(new long[0]).isEmpty());
    assertTrue(h.hash(new long[15]).isEmpty());
    assertEquals(1, h.hash(new long[16]).size());
  }

  @Test
  void hash_intAndLongTokens_agree() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("42").blockSize(16).build();
    int[] ints = new int[PROMPT.length];
    for (int i = 0; i < ints.length; i++) {
      ints[i] = (int) PROMPT[i];
    }
    assertEquals(h.hash(PROMPT), h.hash(ints));
  }

  @Test
  void hash_negativeIntToken_rejectedWithIndex() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("42").blockSize(2).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> h.hash(new int[] {1, -5}));
    assertTrue(e.getMessage().contains("index 1"), e.getMessage());
  }

  @Test
  void hash_prefixOfLongerPrompt_sharesLeadingKeys() {
    PrefixHasher h = PrefixHasher.newBuilder().seed("42").blockSize(16).build();
    List<BlockKey> all = h.hash(PROMPT);
    List<BlockKey> head = h.hash(java.util.Arrays.copyOf(PROMPT, 32));
    assertEquals(all.subList(0, 2), head);
  }

  @Test
  void hash_differentSeeds_shareNothing() {
    List<BlockKey> a = PrefixHasher.newBuilder().seed("42").blockSize(16).build().hash(PROMPT);
    List<BlockKey> b = PrefixHasher.newBuilder().seed("43").blockSize(16).build().hash(PROMPT);
    for (int i = 0; i < a.size(); i++) {
      assertNotEquals(a.get(i), b.get(i));
    }
  }

  @Test
  void build_missingSeedOrBlockSize_failsWithReason() {
    IllegalStateException noSeed =
        assertThrows(
            IllegalStateException.class, () -> PrefixHasher.newBuilder().blockSize(16).build());
    assertTrue(noSeed.getMessage().contains("PYTHONHASHSEED"), noSeed.getMessage());
    assertThrows(IllegalStateException.class, () -> PrefixHasher.newBuilder().seed("1").build());
    assertThrows(IllegalArgumentException.class, () -> PrefixHasher.newBuilder().blockSize(0));
  }

  private static void assertHexes(List<BlockKey> actual, String... expected) {
    assertEquals(List.of(expected), actual.stream().map(BlockKey::toHex).toList());
  }
}
