package io.kvhoard.perf.sim.route;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kvhoard.perf.sim.HitRatioCommand;
import io.kvhoard.perf.sim.Trace;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard-perf routesim --trace FILE}: replays a Mooncake trace against simulated pods
 * through each router and prints hit ratio, TTFT percentiles and load balance (issue 6). See {@link
 * RouteSimulation} for the model. Run: {@code java -jar perf/target/kvhoard-perf.jar routesim
 * --trace ../shared/data/traces/conversation_trace.jsonl --pods 8 --capacity-tokens 2000000
 * --rate-scale 2}.
 */
@Command(
    name = "routesim",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Replay a Mooncake-format trace against N simulated model-server pods through each router and"
          + " print the cluster hit ratio, TTFT p50/p90/p99 and max/mean requests per pod.",
      "Each pod has an LRU GPU KV cache of --capacity-tokens and a FIFO queue (one request at a"
          + " time). Prefill = uncached/15000 + 5.2e-10 * uncached * input_length seconds, uncached"
          + " = input tokens less those of the leading blocks the pod holds; TTFT = queue wait +"
          + " prefill; decode is not modelled.",
      "Routers: random (seeded), round-robin, least-loaded (fewest outstanding requests, then"
          + " tokens), longest-prefix (most leading blocks held, ties to the lowest pod), oracle"
          + " (smallest exact wait + prefill), kvhoard (the real prefix index fed by the pods' block"
          + " events, and the real scorer given the pods' reported queue lengths)."
    },
    exitCodeListHeading = "Exit status:%n",
    exitCodeList = {"0:done", "2:bad usage, or the trace file is missing or malformed"})
public final class RouteSimCommand implements Callable<Integer> {
  @Option(
      names = "--trace",
      required = true,
      paramLabel = "FILE",
      description =
          "Trace: one JSON object per line with timestamp (ms), input_length and hash_ids, e.g."
              + " ../shared/data/traces/conversation_trace.jsonl.")
  private Path trace;

  @Option(
      names = "--pods",
      paramLabel = "N",
      defaultValue = "8",
      description = "Number of pods. Default: ${DEFAULT-VALUE}.")
  private int pods;

  @Option(
      names = "--capacity-tokens",
      paramLabel = "N",
      defaultValue = "2M",
      converter = TokenCount.class,
      description =
          "Each pod's GPU KV capacity in tokens; K, M, G mean 10^3, 10^6, 10^9. It holds capacity /"
              + " block-tokens whole blocks. Default: ${DEFAULT-VALUE}.")
  private long capacityTokens;

  @Option(
      names = "--rate-scale",
      paramLabel = "X",
      defaultValue = "1",
      description =
          "Divide the trace's timestamps by X (2 = twice the trace's own request rate)."
              + " Default: ${DEFAULT-VALUE}.")
  private double rateScale;

  @Option(
      names = "--routers",
      split = ",",
      paramLabel = "R",
      defaultValue = "random,round-robin,least-loaded,longest-prefix,oracle,kvhoard",
      description = "Routers to run, comma-separated, in this order. Default: ${DEFAULT-VALUE}.")
  private List<String> routers = new ArrayList<>();

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description = "Seed of the random router. Default: ${DEFAULT-VALUE}.")
  private long seed;

  @Option(
      names = "--block-tokens",
      paramLabel = "N",
      defaultValue = "512",
      description = "Tokens per block in the trace (Mooncake: 512). Default: ${DEFAULT-VALUE}.")
  private int blockTokens;

  @Option(
      names = "--json",
      description =
          "One JSON object per router per line: router, hit_ratio, ttft_p50_s, ttft_p90_s,"
              + " ttft_p99_s, max_over_mean_load.")
  private boolean json;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    CommandLine cl = spec.commandLine();
    if (pods < 1) {
      throw new CommandLine.ParameterException(cl, "--pods must be at least 1, was " + pods);
    }
    if (blockTokens <= 0) {
      throw new CommandLine.ParameterException(
          cl, "--block-tokens must be positive, was " + blockTokens);
    }
    if (capacityTokens < blockTokens) {
      throw new CommandLine.ParameterException(
          cl,
          "--capacity-tokens "
              + capacityTokens
              + " is less than one block of "
              + blockTokens
              + " tokens; give at least "
              + blockTokens);
    }
    if (!(rateScale > 0) || Double.isInfinite(rateScale)) {
      throw new CommandLine.ParameterException(
          cl, "--rate-scale must be a positive number, was " + rateScale);
    }
    List<Router> chosen = new ArrayList<>();
    for (String id : new LinkedHashSet<>(routers)) {
      try {
        chosen.add(Routers.create(id.trim(), seed, blockTokens));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, "--routers: " + e.getMessage());
      }
    }
    Trace t;
    try {
      t = Trace.read(trace, blockTokens);
    } catch (NoSuchFileException e) {
      return fail("trace file not found: " + trace.toAbsolutePath());
    } catch (IOException e) {
      return fail(e.getMessage());
    }
    PrintWriter out = cl.getOut();
    if (!json) {
      out.printf(
          Locale.ROOT,
          "# %s: %d requests, %d pods x %s tokens, rate x%s%n",
          t.name(),
          t.requests(),
          pods,
          HitRatioCommand.formatTokens(capacityTokens),
          rateScale);
      out.printf(
          Locale.ROOT,
          "%-15s %9s %11s %11s %11s %9s%n",
          "router",
          "hit ratio",
          "TTFT p50 s",
          "TTFT p90 s",
          "TTFT p99 s",
          "max/mean");
    }
    ObjectMapper mapper = new ObjectMapper();
    for (Router router : chosen) {
      RouteSimulation.Result r;
      try {
        r = RouteSimulation.run(t, pods, capacityTokens, rateScale, router);
      } finally {
        if (router instanceof AutoCloseable c) {
          try {
            c.close();
          } catch (Exception e) {
            throw new IllegalStateException("closing router " + router.id() + " failed", e);
          }
        }
      }
      if (json) {
        ObjectNode o = mapper.createObjectNode();
        o.put("router", r.router());
        o.put("hit_ratio", r.hitRatio());
        o.put("ttft_p50_s", r.ttftP50Seconds());
        o.put("ttft_p90_s", r.ttftP90Seconds());
        o.put("ttft_p99_s", r.ttftP99Seconds());
        o.put("max_over_mean_load", r.maxOverMeanLoad());
        out.println(o);
      } else {
        out.printf(
            Locale.ROOT,
            "%-15s %9.4f %11.3f %11.3f %11.3f %9.2f%n",
            r.router(),
            r.hitRatio(),
            r.ttftP50Seconds(),
            r.ttftP90Seconds(),
            r.ttftP99Seconds(),
            r.maxOverMeanLoad());
      }
      out.flush();
    }
    return 0;
  }

  private int fail(String message) {
    spec.commandLine().getErr().println("kvhoard-perf routesim: " + message);
    return 2;
  }

  /** For picocli: {@link HitRatioCommand#parseTokens}. */
  static final class TokenCount implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return HitRatioCommand.parseTokens(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
