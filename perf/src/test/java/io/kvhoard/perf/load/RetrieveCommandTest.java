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
import org.junit.jupiter.api.Test;

/** Runs {@code kvhoard-perf retrieve} in-process at small sizes against a server it starts. */
class RetrieveCommandTest {
  @Test
  void retrieve_json_oneObjectPerOpWithTheSpecifiedFields() throws IOException {
    Result r =
        PerfRun.run(
            "retrieve",
            "--json",
            "--servers",
            "1",
            "--tokens",
            "1024",
            "--layers",
            "2",
            "--kv-heads",
            "2",
            "--head-dim",
            "64",
            "--connections",
            "2",
            "--iterations",
            "3",
            "--store-iterations",
            "2",
            "--baseline",
            "300ms");
    assertEquals(0, r.status(), r.out() + r.err());
    ObjectMapper mapper = new ObjectMapper();
    List<JsonNode> rows = new ArrayList<>();
    for (String line : r.out().lines().toList()) {
      rows.add(mapper.readTree(line));
    }
    assertEquals(2, rows.size(), r.out());
    assertEquals(
        List.of("retrieve", "store"), rows.stream().map(j -> j.get("op").asText()).toList());
    for (JsonNode j : rows) {
      for (String f :
          List.of("op", "servers", "tokens", "gb_per_s", "p50_ms", "p99_ms", "ratio_to_get")) {
        assertTrue(j.has(f), f + " missing in " + j);
      }
      assertEquals(1, j.get("servers").asInt());
      assertEquals(1024, j.get("tokens").asInt());
      assertEquals(16_384, j.get("block_bytes").asInt()); // 2 x 2 layers x 2 heads x 64 x 2 B x 16
      assertTrue(j.get("gb_per_s").asDouble() > 0, j.toString());
      assertTrue(j.get("p99_ms").asDouble() >= j.get("p50_ms").asDouble(), j.toString());
      assertEquals(
          j.get("gb_per_s").asDouble() / j.get("get_gb_per_s").asDouble(),
          j.get("ratio_to_get").asDouble(),
          1e-9);
      // The fair peer: the harness's GET into the retrieve's destination memory, same run.
      assertTrue(j.get("memory_get_gb_per_s").asDouble() > 0, j.toString());
      assertEquals(
          j.get("gb_per_s").asDouble() / j.get("memory_get_gb_per_s").asDouble(),
          j.get("ratio_to_memory_get").asDouble(),
          1e-9);
    }
    assertEquals(3, rows.get(0).get("calls").asInt());
    assertEquals(2, rows.get(1).get("calls").asInt());
  }

  @Test
  void retrieve_badUsage_exitStatus2WithAMessage() {
    Result r = PerfRun.run("retrieve", "--servers", "0");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--servers 0"), r.err());
    Result t = PerfRun.run("retrieve", "--tokens", "8");
    assertEquals(2, t.status());
    assertTrue(t.err().contains("at least one block"), t.err());
  }
}
