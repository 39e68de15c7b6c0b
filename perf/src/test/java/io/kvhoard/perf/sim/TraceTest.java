package io.kvhoard.perf.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceTest {
  @TempDir Path dir;

  private Path file(String... lines) throws IOException {
    Path f = dir.resolve("t.jsonl");
    Files.write(f, String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
    return f;
  }

  private TraceFormatException bad(String... lines) throws IOException {
    Path f = file(lines);
    return assertThrows(TraceFormatException.class, () -> Trace.read(f, 512));
  }

  @Test
  void read_mooncakeLines_requestsInOrder() throws IOException {
    Trace t =
        Trace.read(
            file(
                "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [7,"
                    + " 8]}",
                "",
                "{\"timestamp\": 3, \"input_length\": 512, \"output_length\": 1, \"hash_ids\": [7]}"),
            512);
    assertEquals(2, t.requests());
    assertArrayEquals(new long[] {7, 8}, t.blocks(0));
    assertEquals(512, t.inputTokens(1));
    assertEquals(3, t.totalBlocks());
    assertEquals(1512, t.totalTokens());
    assertEquals(2, t.distinctBlocks());
    assertEquals("t.jsonl", t.name());
    assertEquals(0, t.timestampMs(0));
    assertEquals(3, t.timestampMs(1));
  }

  @Test
  void read_timestamps_absentIsZeroNegativeOrTextRejected() throws IOException {
    Trace t = Trace.read(file("{\"input_length\": 512, \"hash_ids\": [7]}"), 512);
    assertEquals(0, t.timestampMs(0));
    assertTrue(
        bad("{\"timestamp\": -1, \"input_length\": 512, \"hash_ids\": [7]}")
            .getMessage()
            .contains("line 1: \"timestamp\""));
    assertTrue(
        bad("{\"timestamp\": \"x\", \"input_length\": 512, \"hash_ids\": [7]}")
            .getMessage()
            .contains("\"timestamp\" is not"));
  }

  @Test
  void read_garbledLine_namesTheLine() throws IOException {
    TraceFormatException e =
        bad("{\"input_length\": 1, \"hash_ids\": [1]}", "{\"input_length\": 1, \"hash_ids\": [1");
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("line 2: not JSON"), e.getMessage());
  }

  @Test
  void read_missingOrMistypedFields_namesFieldAndLine() throws IOException {
    assertTrue(bad("[1, 2]").getMessage().contains("line 1: not a JSON object"));
    assertTrue(bad("{\"hash_ids\": [1]}").getMessage().contains("\"input_length\""));
    assertTrue(bad("{\"input_length\": 10}").getMessage().contains("\"hash_ids\""));
    assertTrue(
        bad("{\"input_length\": 10, \"hash_ids\": [\"a\"]}").getMessage().contains("hash_ids[0]"));
    assertTrue(
        bad("{\"input_length\": 0, \"hash_ids\": []}").getMessage().contains("not positive"));
  }

  @Test
  void read_blockCountDisagreesWithLength_suggestsBlockTokens() throws IOException {
    TraceFormatException e = bad("{\"input_length\": 1025, \"hash_ids\": [1, 2]}");
    assertTrue(e.getMessage().contains("expected 3 blocks of 512 tokens"), e.getMessage());
    assertTrue(e.getMessage().contains("--block-tokens"), e.getMessage());
  }

  @Test
  void read_blockWithTwoParents_namesBoth() throws IOException {
    TraceFormatException e =
        bad(
            "{\"input_length\": 1024, \"hash_ids\": [1, 2]}",
            "{\"input_length\": 1024, \"hash_ids\": [3, 2]}");
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("block 2 follows 3 here but follows 1"), e.getMessage());
  }

  @Test
  void read_emptyFile_fails() throws IOException {
    assertTrue(bad("", "").getMessage().contains("no requests"));
  }

  @Test
  void read_missingFile_noSuchFile() {
    assertThrows(NoSuchFileException.class, () -> Trace.read(dir.resolve("absent.jsonl"), 512));
  }
}
