package io.kvhoard.perf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kvhoard.perf.ChronicleFlags;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kvhoard-perf micro NAME...}: runs JMH benchmarks of this package and prints, per parameter
 * combination, each of our methods' median over the forks against each {@code baseline*} method of
 * the same class, with the ratio (above 1: ours is faster).
 */
@Command(
    name = "micro",
    mixinStandardHelpOptions = true,
    description = {
      "Run JMH micro-benchmarks and print ours vs the baseline measured in the same run.",
      "NAME is a benchmark class without 'Benchmark' (PrefixHash, FrameCodec) or a JMH regex."
    })
public final class MicroCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "NAME",
      arity = "1..*",
      description = "Benchmarks to run, e.g. PrefixHash FrameCodec.")
  private List<String> names = new ArrayList<>();

  @Option(
      names = "--forks",
      defaultValue = "3",
      description = "Forked JVMs per benchmark; medians are over forks. Default: ${DEFAULT-VALUE}.")
  private int forks;

  @Option(
      names = "--warmup",
      defaultValue = "3",
      description = "Warm-up iterations per fork. Default: ${DEFAULT-VALUE}.")
  private int warmup;

  @Option(
      names = "--iterations",
      defaultValue = "5",
      description = "Measured iterations per fork. Default: ${DEFAULT-VALUE}.")
  private int iterations;

  @Option(
      names = "--time-ms",
      defaultValue = "1000",
      description = "Duration of each iteration in ms. Default: ${DEFAULT-VALUE}.")
  private int timeMs;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description = "Benchmark threads. Default: ${DEFAULT-VALUE}.")
  private int threads;

  @Option(
      names = "-p",
      paramLabel = "NAME=V1,V2",
      description = "Override a @Param, e.g. -p blockSize=16.")
  private Map<String, String> params = new TreeMap<>();

  @Option(names = "--json", description = "One JSON object per comparison instead of a table.")
  private boolean json;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws RunnerException {
    if (forks < 1 || iterations < 1 || warmup < 0 || timeMs < 1 || threads < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--forks, --iterations, --time-ms and --threads must be at least 1, --warmup at least 0");
    }
    ChainedOptionsBuilder opts =
        new OptionsBuilder()
            .forks(forks)
            .jvmArgsAppend(ChronicleFlags.JVM_ARGS.toArray(String[]::new))
            .warmupIterations(warmup)
            .warmupTime(TimeValue.milliseconds(timeMs))
            .measurementIterations(iterations)
            .measurementTime(TimeValue.milliseconds(timeMs))
            .threads(threads)
            .shouldFailOnError(true)
            .verbosity(json ? VerboseMode.SILENT : VerboseMode.NORMAL);
    for (String n : names) {
      opts.include(n.matches("[A-Za-z0-9]+") ? "\\." + n + "Benchmark\\." : n);
    }
    params.forEach((k, v) -> opts.param(k, v.split(",")));
    Collection<RunResult> results = new Runner(opts.build()).run();
    if (results.isEmpty()) {
      spec.commandLine().getErr().println("kvhoard-perf micro: no benchmark matched " + names);
      return 1;
    }
    print(Comparison.compare(toRuns(results)), spec.commandLine().getOut());
    return 0;
  }

  static List<Comparison.Run> toRuns(Collection<RunResult> results) {
    List<Comparison.Run> runs = new ArrayList<>();
    for (RunResult rr : results) {
      String full = rr.getParams().getBenchmark();
      int dot = full.lastIndexOf('.');
      String cls = full.substring(full.lastIndexOf('.', dot - 1) + 1, dot);
      String method = full.substring(dot + 1);
      TreeMap<String, String> p = new TreeMap<>();
      for (String k : rr.getParams().getParamsKeys()) {
        p.put(k, rr.getParams().getParam(k));
      }
      boolean higher = rr.getParams().getMode() == org.openjdk.jmh.annotations.Mode.Throughput;
      for (BenchmarkResult fork : rr.getBenchmarkResults()) {
        runs.add(
            new Comparison.Run(
                cls.replaceFirst("Benchmark$", ""),
                method,
                p,
                fork.getPrimaryResult().getScore(),
                fork.getPrimaryResult().getScoreUnit(),
                higher));
      }
    }
    return runs;
  }

  private void print(List<Comparison.Row> rows, PrintWriter out) {
    ObjectMapper mapper = new ObjectMapper();
    for (Comparison.Row r : rows) {
      if (json) {
        ObjectNode o = mapper.createObjectNode();
        o.put("benchmark", r.benchmark());
        ObjectNode p = o.putObject("params");
        r.params().forEach(p::put);
        o.put("method", r.method());
        o.put("median", r.median());
        o.put("unit", r.unit());
        o.put("runs", r.runs());
        o.put("baseline", r.baseline());
        o.put("baseline_median", r.baselineMedian());
        o.put("ratio", r.ratio());
        out.println(o);
      } else {
        out.printf(
            "%-12s %-28s %-16s %14.4g %-8s vs %-20s %14.4g  ratio %.3f  (median of %d forks)%n",
            r.benchmark(),
            r.params(),
            r.method(),
            r.median(),
            r.unit(),
            r.baseline(),
            r.baselineMedian(),
            r.ratio(),
            r.runs());
      }
    }
    out.flush();
  }
}
