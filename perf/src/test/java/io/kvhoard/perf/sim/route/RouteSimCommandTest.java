package io.kvhoard.perf.sim.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.perf.PerfRun;
import io.kvhoard.perf.PerfRun.Result;
import io.kvhoard.perf.sim.TraceFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code kvhoard-perf routesim} in-process on a small trace. */
class RouteSimCommandTest {

  @TempDir Path dir;
  private Path trace;

  @BeforeEach
  void writeTrace() throws IOException {
    trace =
        TraceFiles.write(RouteSimulationTest.randomTrace(3, 100, 10), dir.resolve("small.jsonl"));
  }

  private static Result run(String... args) {
    return PerfRun.run(args);
  }

  @Test
  void routesim_table_oneRowPerRouter() {
    Result r = run("routesim", "--trace", trace.toString(), "--pods", "4");
    assertEquals(0, r.status(), r.err());
    List<String> rows = r.out().lines().filter(l -> !l.startsWith("#")).toList();
    assertEquals(1 + Routers.IDS.size(), rows.size(), r.out());
    assertTrue(rows.get(0).contains("TTFT p90"), rows.get(0));
    assertTrue(rows.get(5).startsWith("oracle"), rows.get(5));
  }

  @Test
  void routesim_json_specifiedFields() throws IOException {
    Result r =
        run(
            "routesim",
            "--trace",
            trace.toString(),
            "--pods",
            "2",
            "--capacity-tokens",
            "10K",
            "--rate-scale",
            "2",
            "--routers",
            "round-robin,oracle",
            "--json");
    assertEquals(0, r.status(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size(), r.out());
    ObjectMapper mapper = new ObjectMapper();
    JsonNode o = mapper.readTree(lines.get(1));
    assertEquals("oracle", o.get("router").asText());
    for (String f :
        new String[] {
          "hit_ratio", "ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "max_over_mean_load"
        }) {
      assertTrue(o.get(f).isNumber(), f + " in " + o);
    }
    assertEquals(6, o.size(), o.toString());
  }

  @Test
  void routesim_badInput_status2Explains() {
    Result pods = run("routesim", "--trace", trace.toString(), "--pods", "0");
    assertEquals(2, pods.status());
    assertTrue(pods.err().contains("--pods must be at least 1"), pods.err());
    Result router = run("routesim", "--trace", trace.toString(), "--routers", "oracle,magic");
    assertEquals(2, router.status());
    assertTrue(router.err().contains("unknown router 'magic'"), router.err());
    Result scale = run("routesim", "--trace", trace.toString(), "--rate-scale", "0");
    assertEquals(2, scale.status());
    assertTrue(scale.err().contains("--rate-scale must be a positive"), scale.err());
    Result cap = run("routesim", "--trace", trace.toString(), "--capacity-tokens", "100");
    assertEquals(2, cap.status());
    assertTrue(cap.err().contains("less than one block"), cap.err());
    Result missing = run("routesim", "--trace", dir.resolve("absent.jsonl").toString());
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("trace file not found"), missing.err());
  }

  @Test
  void routesim_garbledTrace_status2NamesLine() throws IOException {
    Files.writeString(trace, "{\"timestamp\": 0, \"input_length\": 512, \"hash_ids\": [1]}\nx\n");
    Result r = run("routesim", "--trace", trace.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("line 2: not JSON"), r.err());
  }

  @Test
  void routesim_help_documentsEveryFlag() {
    Result r = run("routesim", "--help");
    assertEquals(0, r.status());
    for (String flag :
        new String[] {
          "--trace",
          "--pods",
          "--capacity-tokens",
          "--rate-scale",
          "--routers",
          "--seed",
          "--block-tokens",
          "--json",
          "--help"
        }) {
      assertTrue(r.out().contains(flag), flag + " missing from\n" + r.out());
    }
  }
}
