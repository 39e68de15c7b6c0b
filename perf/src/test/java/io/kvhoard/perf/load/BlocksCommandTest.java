package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.perf.PerfRun;
import io.kvhoard.perf.PerfRun.Result;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Runs {@code kvhoard-perf blocks} in-process against the raw pump and a fake kvhoard. */
class BlocksCommandTest {

  private static Result run(String... args) {
    return PerfRun.run(args);
  }

  /** kvhoard alone, 64 KiB blocks, one connection, 2 MiB per measurement: a few seconds. */
  private static Result oneSmallKvhoardRun(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "blocks",
                "--systems",
                "kvhoard",
                "--sizes",
                "64k",
                "--connections",
                "1",
                "--bytes",
                "2m",
                "--warmup",
                "0ms",
                "--working-set",
                "1m"));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private static List<JsonNode> json(String out) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    List<JsonNode> rows = new ArrayList<>();
    for (String line : out.lines().toList()) {
      rows.add(mapper.readTree(line));
    }
    return rows;
  }

  @Test
  void blocks_json_oneObjectPerMeasurementWithTheSpecifiedFields() throws IOException {
    Result r =
        run(
            "blocks",
            "--json",
            "--systems",
            "raw",
            "--sizes",
            "64k",
            "--connections",
            "1,2",
            "--ops",
            "put,get",
            "--bytes",
            "4m",
            "--warmup",
            "0ms",
            "--working-set",
            "1m");
    assertEquals(0, r.status(), r.err());
    List<JsonNode> rows = json(r.out());
    assertEquals(4, rows.size(), r.out());
    Set<String> fields =
        Set.of(
            "system",
            "op",
            "block_bytes",
            "connections",
            "gb_per_s",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "server_cpu_s_per_gb",
            "ratio_to_raw");
    for (JsonNode row : rows) {
      for (String f : fields) {
        assertTrue(row.has(f), f + " missing in " + row);
      }
      assertEquals("raw", row.get("system").asText());
      assertEquals(65_536, row.get("block_bytes").asInt());
      assertTrue(row.get("gb_per_s").asDouble() > 0, row.toString());
      assertEquals(1.0, row.get("ratio_to_raw").asDouble(), 1e-12);
      assertTrue(row.get("server_cpu_s_per_gb").isNumber(), row.toString());
    }
    assertEquals("put", rows.get(0).get("op").asText());
    assertEquals(2, rows.get(3).get("connections").asInt());
    assertTrue(r.err().contains("# raw: raw pump"), r.err());
  }

  @Test
  void blocks_kvhoardAgainstAFakeServer_tableWithoutRawHasNoRatio() throws IOException {
    try (FakeKvHoardServer fake = new FakeKvHoardServer()) {
      String address = "127.0.0.1:" + fake.address().getPort();
      Result r = oneSmallKvhoardRun("--kvhoard", address);
      assertEquals(0, r.status(), r.err());
      List<String> lines = r.out().lines().toList();
      assertTrue(lines.stream().anyMatch(l -> l.contains("vs raw")), r.out());
      List<String> kv = lines.stream().filter(l -> l.startsWith("kvhoard ")).toList();
      assertEquals(2, kv.size(), r.out());
      assertTrue(kv.get(0).contains("64 KiB") && kv.get(0).contains(" - "), kv.get(0));
    }
  }

  @Test
  void blocks_kvhoardWithoutAddress_startsItsOwnServer() throws Exception {
    Result r = oneSmallKvhoardRun("--json", "--jit-warmup", "1500ms");
    assertEquals(0, r.status(), r.err());
    assertTrue(
        r.err().contains("# kvhoard: JIT warm-up 1.5 s, cut off at the limit")
            || r.err().contains("# kvhoard: JIT warm-up 1.6 s, cut off at the limit"),
        "the warm-up of the started server is reported: " + r.err());
    List<JsonNode> rows = json(r.out());
    assertEquals(2, rows.size(), r.out() + r.err());
    for (JsonNode j : rows) {
      assertEquals("kvhoard", j.get("system").asText());
      assertTrue(j.get("gb_per_s").asDouble() > 0, j.toString());
      assertTrue(j.get("server_cpu_s_per_gb").isNumber(), "CPU of the started server: " + j);
    }
  }

  @Test
  void blocks_badUsage_exitStatus2WithAMessage() {
    Result size = run("blocks", "--sizes", "2x");
    assertEquals(2, size.status());
    assertTrue(size.err().contains("not a size"), size.err());
    Result system = run("blocks", "--systems", "raw,mongodb");
    assertEquals(2, system.status());
    assertTrue(system.err().contains("unknown system 'mongodb'"), system.err());
    Result address = run("blocks", "--kvhoard", "localhost");
    assertEquals(2, address.status());
    assertTrue(address.err().contains("HOST:PORT"), address.err());
  }
}
