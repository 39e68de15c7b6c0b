package io.kvhoard.perf.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Pairs each of our benchmark methods with the {@code baseline*} methods of the same class and
 * parameters, and computes median scores and ratios. Pure: no JMH types, so it is tested directly.
 *
 * <p>A ratio above 1 means ours is faster than the baseline, for throughput and time modes alike.
 */
final class Comparison {
  /** One fork's score of one method at one parameter combination. */
  record Run(
      String benchmark,
      String method,
      SortedMap<String, String> params,
      double score,
      String unit,
      boolean higherIsBetter) {}

  /** A method's median over its runs, against one baseline's median. */
  record Row(
      String benchmark,
      SortedMap<String, String> params,
      String method,
      double median,
      String unit,
      int runs,
      String baseline,
      double baselineMedian,
      double ratio) {}

  static final String BASELINE_PREFIX = "baseline";

  private Comparison() {}

  static double median(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /**
   * Rows for every non-baseline method against every baseline of its group: the baselines of the
   * same benchmark whose parameters all have the method's values. A baseline that does not use a
   * parameter (JMH gives it none: its state does not declare it) serves every value of it.
   */
  static List<Row> compare(List<Run> runs) {
    record Group(String benchmark, SortedMap<String, String> params) {}
    Map<Group, Map<String, List<Run>>> groups = new LinkedHashMap<>();
    for (Run r : runs) {
      groups
          .computeIfAbsent(new Group(r.benchmark(), r.params()), g -> new LinkedHashMap<>())
          .computeIfAbsent(r.method(), m -> new ArrayList<>())
          .add(r);
    }
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<Group, Map<String, List<Run>>> g : groups.entrySet()) {
      // Baseline medians of every group this one's parameters cover; without any, one NaN row.
      Map<String, Double> baselines = new LinkedHashMap<>();
      for (Map.Entry<Group, Map<String, List<Run>>> b : groups.entrySet()) {
        if (b.getKey().benchmark().equals(g.getKey().benchmark())
            && g.getKey().params().entrySet().containsAll(b.getKey().params().entrySet())) {
          b.getValue()
              .forEach(
                  (method, methodRuns) -> {
                    if (method.startsWith(BASELINE_PREFIX)) {
                      baselines.putIfAbsent(method, median(scores(methodRuns)));
                    }
                  });
        }
      }
      if (baselines.isEmpty()) {
        baselines.put("", Double.NaN);
      }
      for (Map.Entry<String, List<Run>> ours : g.getValue().entrySet()) {
        if (ours.getKey().startsWith(BASELINE_PREFIX)) {
          continue;
        }
        Run first = ours.getValue().get(0);
        double m = median(scores(ours.getValue()));
        for (Map.Entry<String, Double> base : baselines.entrySet()) {
          double b = base.getValue();
          rows.add(
              new Row(
                  g.getKey().benchmark(),
                  g.getKey().params(),
                  ours.getKey(),
                  m,
                  first.unit(),
                  ours.getValue().size(),
                  base.getKey(),
                  b,
                  first.higherIsBetter() ? m / b : b / m));
        }
      }
    }
    return rows;
  }

  private static double[] scores(List<Run> runs) {
    return runs.stream().mapToDouble(Run::score).toArray();
  }
}
