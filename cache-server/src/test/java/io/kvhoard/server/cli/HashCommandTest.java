package io.kvhoard.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.protocol.testing.SharedData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs {@code kvhoard hash} in-process against vLLM's own block hashes. */
class HashCommandTest {
  private record Result(int status, String out, String err) {}

  private static Result run(String stdin, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status =
        KvHoardCommand.commandLine(
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                java.io.OutputStream.nullOutputStream(),
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                java.util.Map.of())
            .execute(args);
    return new Result(status, out.toString(), err.toString());
  }

  private static JsonNode vector(String file) throws IOException {
    return new ObjectMapper().readTree(SharedData.path("vectors/" + file).toFile());
  }

  private static List<String> expectedHashes(JsonNode v) {
    List<String> out = new ArrayList<>();
    v.get("block_hashes").forEach(h -> out.add(h.asText()));
    return out;
  }

  @Test
  void hash_vllmBaseVector_printsVllmBlockHashes() throws IOException {
    JsonNode v = vector("kv_event_base.json");
    Result r = run(v.get("token_ids").toString(), "hash", "--seed", "42", "--block-size", "16");
    assertEquals(0, r.status, r.err);
    assertEquals(expectedHashes(v), r.out.lines().toList());
    assertEquals("", r.err, "400 tokens fill 25 blocks: no note expected");
  }

  @Test
  void hash_loraVector_extraKeyOnEveryBlock() throws IOException {
    JsonNode v = vector("kv_event_lora.json");
    StringBuilder spaced = new StringBuilder();
    v.get("token_ids").forEach(t -> spaced.append(t.asText()).append(" \n"));
    Result r =
        run(
            spaced.toString(),
            "hash",
            "--seed",
            "42",
            "--block-size",
            "16",
            "--extra-key",
            "Alice");
    assertEquals(0, r.status, r.err);
    assertEquals(expectedHashes(v), r.out.lines().toList());
  }

  @Test
  void hash_hexFormat_printsDigestWhoseTailIsTheU64() throws IOException {
    JsonNode v = vector("kv_event_base.json");
    Result r =
        run(
            v.get("token_ids").toString(),
            "hash",
            "--seed",
            "42",
            "--block-size",
            "16",
            "--format",
            "hex");
    assertEquals(0, r.status, r.err);
    List<String> lines = r.out.lines().toList();
    assertEquals(25, lines.size());
    for (int i = 0; i < lines.size(); i++) {
      assertTrue(lines.get(i).matches("[0-9a-f]{64}"), lines.get(i));
      assertEquals(
          expectedHashes(v).get(i),
          Long.toUnsignedString(Long.parseUnsignedLong(lines.get(i).substring(48), 16)));
    }
  }

  @Test
  void hash_partialBlock_notedOnStderr() {
    Result r = run("1 2 3 4 5", "hash", "--seed", "42", "--block-size", "2");
    assertEquals(0, r.status, r.err);
    assertEquals(2, r.out.lines().count());
    assertTrue(r.err.contains("the last 1 tokens are not keyed"), r.err);
  }

  @Test
  void hash_badToken_exit1NamingIt() {
    Result r = run("1 2 x3 4", "hash", "--seed", "42", "--block-size", "2");
    assertEquals(1, r.status);
    assertTrue(r.err.contains("token 2 is not a token id: 'x3'"), r.err);
    assertEquals("", r.out);
  }

  @Test
  void hash_negativeOrTooLargeToken_rejected() {
    assertEquals(1, run("-1 2", "hash", "--seed", "42", "--block-size", "2").status);
    assertEquals(
        1, run("18446744073709551616 2", "hash", "--seed", "42", "--block-size", "2").status);
  }

  @Test
  void hash_missingSeed_usageErrorExit2() {
    Result r = run("1 2", "hash", "--block-size", "2");
    assertEquals(2, r.status);
    assertTrue(r.err.contains("--seed"), r.err);
  }

  @Test
  void hash_zeroBlockSize_usageErrorExit2() {
    Result r = run("1 2", "hash", "--seed", "1", "--block-size", "0");
    assertEquals(2, r.status);
    assertTrue(r.err.contains("--block-size must be at least 1"), r.err);
  }

  @Test
  void help_listsEveryHashOption() {
    Result r = run("", "hash", "--help");
    assertEquals(0, r.status);
    for (String opt : List.of("--seed", "--block-size", "--extra-key", "--salt", "--format")) {
      assertTrue(r.out.contains(opt), opt + " missing from:\n" + r.out);
    }
  }

  @Test
  void noSubcommand_usageErrorExit2() {
    Result r = run("");
    assertEquals(2, r.status);
    assertTrue(r.err.contains("a subcommand is required"), r.err);
  }
}
