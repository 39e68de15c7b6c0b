package io.kvhoard.perf.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.perf.PerfRun;
import io.kvhoard.perf.PerfRun.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code kvhoard-perf hitratio} in-process on a small trace. */
class HitRatioCommandTest {

  @TempDir Path dir;
  private Path trace;

  @BeforeEach
  void writeTrace() throws IOException {
    trace = TraceFiles.write(ReplayTest.randomTrace(7, 200), dir.resolve("random.jsonl"));
  }

  private static Result run(String... args) {
    return PerfRun.run(args);
  }

  @Test
  void hitratio_table_oneLinePerPolicyAndCapacity() {
    Result r = run("hitratio", "--trace", trace.toString(), "--capacity-tokens", "5K,20480");
    assertEquals(0, r.status(), r.err());
    List<String> rows = r.out().lines().filter(l -> !l.startsWith("#")).toList();
    assertEquals(1 + 2 * 6, rows.size(), r.out());
    assertTrue(rows.get(0).contains("vs opt"));
    assertTrue(rows.get(1).startsWith("5K") && rows.get(1).contains("opt"), rows.get(1));
    assertTrue(rows.stream().anyMatch(l -> l.contains("20480") && l.contains("(default)")));
    assertTrue(r.out().contains("# random.jsonl: 200 requests"), r.out());
  }

  @Test
  void hitratio_json_specifiedFieldsAndDefaultFlag() throws IOException {
    Result r =
        run(
            "hitratio",
            "--trace",
            trace.toString(),
            "--capacity-tokens",
            "10K",
            "--policies",
            "lru,prefix-lru",
            "--json");
    assertEquals(0, r.status(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size(), r.out());
    ObjectMapper mapper = new ObjectMapper();
    JsonNode lru = mapper.readTree(lines.get(0));
    JsonNode ours = mapper.readTree(lines.get(1));
    assertEquals("lru", lru.get("policy").asText());
    assertEquals(10_000, lru.get("capacity_tokens").asLong());
    for (String field : new String[] {"hit_ratio_blocks", "hit_ratio_tokens", "ratio_to_opt"}) {
      double v = lru.get(field).asDouble();
      assertTrue(v >= 0 && v <= 1, field + " " + v);
    }
    assertFalse(lru.has("default"));
    assertEquals("prefix-lru", ours.get("policy").asText());
    assertTrue(ours.get("default").asBoolean());
  }

  @Test
  void hitratio_missingTrace_status1NamesFile() {
    Result r = run("hitratio", "--trace", dir.resolve("absent.jsonl").toString());
    assertEquals(1, r.status());
    assertTrue(r.err().contains("trace file not found") && r.err().contains("absent.jsonl"));
  }

  @Test
  void hitratio_garbledTrace_status1NamesLine() throws IOException {
    Files.writeString(trace, "{\"input_length\": 512, \"hash_ids\": [1]}\nnot json\n");
    Result r = run("hitratio", "--trace", trace.toString());
    assertEquals(1, r.status());
    assertTrue(r.err().contains("line 2: not JSON"), r.err());
  }

  @Test
  void hitratio_badCapacity_status2Explains() {
    Result r = run("hitratio", "--trace", trace.toString(), "--capacity-tokens", "1M,3X");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("'3X' is not a token count"), r.err());
    Result small = run("hitratio", "--trace", trace.toString(), "--capacity-tokens", "100");
    assertEquals(2, small.status());
    assertTrue(small.err().contains("less than one block of 512 tokens"), small.err());
  }

  @Test
  void hitratio_unknownPolicy_status2ListsKnown() {
    Result r = run("hitratio", "--trace", trace.toString(), "--policies", "lru,arc");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("unknown policy 'arc'") && r.err().contains("prefix-lru"), r.err());
  }

  @Test
  void hitratio_help_documentsEveryFlag() {
    Result r = run("hitratio", "--help");
    assertEquals(0, r.status());
    for (String flag :
        new String[] {
          "--trace", "--capacity-tokens", "--policies", "--block-tokens", "--json", "--help"
        }) {
      assertTrue(r.out().contains(flag), flag + " missing from\n" + r.out());
    }
  }

  @Test
  void parseTokens_suffixesAreDecimal() {
    assertEquals(1_000_000, HitRatioCommand.parseTokens("1M"));
    assertEquals(50_000_000, HitRatioCommand.parseTokens("50m"));
    assertEquals(1_500, HitRatioCommand.parseTokens("1.5K"));
    assertEquals(2_000_000_000L, HitRatioCommand.parseTokens("2G"));
    assertEquals(12_345, HitRatioCommand.parseTokens("12345"));
    for (String bad : new String[] {"0", "1.2345K", "-1", "M", "1MB", ""}) {
      assertThrows(IllegalArgumentException.class, () -> HitRatioCommand.parseTokens(bad), bad);
    }
  }

  @Test
  void formatTokens_roundCountsShort() {
    assertEquals("10M", HitRatioCommand.formatTokens(10_000_000));
    assertEquals("5K", HitRatioCommand.formatTokens(5_000));
    assertEquals("20480", HitRatioCommand.formatTokens(20_480));
  }
}
