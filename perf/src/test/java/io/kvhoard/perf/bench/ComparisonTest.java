package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ComparisonTest {
  private static SortedMap<String, String> p(String v) {
    return new TreeMap<>(java.util.Map.of("size", v));
  }

  private static Comparison.Run run(String method, String size, double score, boolean higher) {
    return new Comparison.Run("X", method, p(size), score, "ops/s", higher);
  }

  @Test
  void median_oddAndEven_middleValue() {
    assertEquals(2.0, Comparison.median(new double[] {3, 1, 2}));
    assertEquals(2.5, Comparison.median(new double[] {4, 1, 3, 2}));
  }

  @Test
  void compare_throughput_ratioIsOursOverBaselinePerParams() {
    List<Comparison.Row> rows =
        Comparison.compare(
            List.of(
                run("ours", "1", 10, true),
                run("ours", "1", 30, true),
                run("ours", "1", 20, true),
                run("baselineCopy", "1", 40, true),
                run("ours", "2", 5, true),
                run("baselineCopy", "2", 10, true)));
    assertEquals(2, rows.size());
    assertEquals(20.0, rows.get(0).median());
    assertEquals(0.5, rows.get(0).ratio(), 1e-12);
    assertEquals(3, rows.get(0).runs());
    assertEquals("2", rows.get(1).params().get("size"));
    assertEquals(0.5, rows.get(1).ratio(), 1e-12);
  }

  @Test
  void compare_timeMode_ratioIsBaselineOverOurs() {
    List<Comparison.Row> rows =
        Comparison.compare(List.of(run("ours", "1", 2, false), run("baselineX", "1", 6, false)));
    assertEquals(3.0, rows.get(0).ratio(), 1e-12);
  }

  @Test
  void compare_noBaseline_rowWithNaNRatio() {
    List<Comparison.Row> rows = Comparison.compare(List.of(run("ours", "1", 2, true)));
    assertEquals(1, rows.size());
    assertTrue(Double.isNaN(rows.get(0).ratio()));
  }

  @Test
  void compare_baselineWithoutAParameter_servesEveryValueOfIt() {
    SortedMap<String, String> withSink = new TreeMap<>(java.util.Map.of("size", "1", "sink", "a"));
    SortedMap<String, String> otherSink = new TreeMap<>(java.util.Map.of("size", "1", "sink", "b"));
    List<Comparison.Row> rows =
        Comparison.compare(
            List.of(
                new Comparison.Run("X", "ours", withSink, 10, "ops/s", true),
                new Comparison.Run("X", "ours", otherSink, 30, "ops/s", true),
                new Comparison.Run("X", "baselineRaw", p("1"), 40, "ops/s", true),
                new Comparison.Run("X", "baselineRaw", p("2"), 80, "ops/s", true),
                new Comparison.Run("Y", "baselineRaw", p("1"), 1, "ops/s", true)));
    assertEquals(2, rows.size(), "one row per parameter combination of ours: " + rows);
    assertEquals("baselineRaw", rows.get(0).baseline());
    assertEquals(0.25, rows.get(0).ratio(), 1e-12, "against size 1 of benchmark X only");
    assertEquals(0.75, rows.get(1).ratio(), 1e-12);
  }
}
