package io.kvhoard.perf.bench;

import static io.kvhoard.perf.PerfRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.perf.PerfRun.Result;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A small {@code kvhoard-perf index}: every figure printed, and the match checked against both
 * indexes.
 */
class IndexBenchCommandTest {
  @Test
  void index_smallRun_printsEveryFigureWithItsGoal() {
    Result r =
        run(
            "index",
            "--entries",
            "50000",
            "--pods",
            "10",
            "--prompt-blocks",
            "512",
            "--queries",
            "30");
    assertEquals(0, r.status(), r.err());
    String out = r.out();
    assertTrue(out.contains("apply BlockStored"), out);
    assertTrue(out.contains("goal <= 48: met"), out);
    assertTrue(out.contains("on-heap HashMap index"), out);
    assertTrue(out.contains("score 8192-token prompt"), out);
    Matcher m = Pattern.compile("\\((\\d+\\.\\d) B/entry;").matcher(out);
    assertTrue(m.find(), out);
    double perEntry = Double.parseDouble(m.group(1));
    assertTrue(perEntry > 16 && perEntry <= 48, out);
    assertTrue(out.contains("Malformed 0, dropped 0, evicted 0"), out);
  }
}
