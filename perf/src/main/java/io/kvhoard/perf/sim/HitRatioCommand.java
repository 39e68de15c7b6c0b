package io.kvhoard.perf.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard-perf hitratio --trace FILE}: replays a Mooncake trace against eviction policies at
 * several capacities and prints each policy's prefix-hit ratio, in blocks and in tokens, with its
 * ratio to Belady's optimum replayed in the same run. The hit-ratio simulator after Caffeine's
 * {@code simulator/}.
 */
@Command(
    name = "hitratio",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Replay a Mooncake-format trace against eviction policies and print prefix-hit ratios.",
      "A request hits its longest run of leading blocks that are all cached; afterwards all its"
          + " blocks are cached. Ratios: hit blocks / blocks, and hit tokens / input tokens (a"
          + " request's last block counts its real tokens). 'vs opt' divides the block ratio by"
          + " that of Belady's optimum at the same capacity.",
      "Policies: opt (Belady's offline optimum), lru (plain LRU), leaf-lru (LRU among leaves),"
          + " prefix-lru (the store's default: leaves, partial tails first, reuse bonus), tinylfu"
          + " (W-TinyLFU admission in front of prefix-lru), tinylfu-blind (Caffeine's W-TinyLFU"
          + " over independent blocks), oracle-lru (a diagnostic: LRU told which blocks are never"
          + " used again)."
    },
    exitCodeListHeading = "Exit status:%n",
    exitCodeList = {"0:done", "1:the trace file is missing or malformed", "2:bad usage"})
public final class HitRatioCommand implements Callable<Integer> {
  private static final Pattern TOKENS = Pattern.compile("(\\d+(?:\\.\\d+)?)([kKmMgG]?)");

  @Option(
      names = "--trace",
      required = true,
      paramLabel = "FILE",
      description =
          "Trace: one JSON object per line with input_length and hash_ids, e.g."
              + " ../shared/data/traces/conversation_trace.jsonl.")
  private Path trace;

  @Option(
      names = "--capacity-tokens",
      split = ",",
      paramLabel = "N",
      defaultValue = "1M,3M,10M,50M",
      converter = TokenCountConverter.class,
      description =
          "Cache capacities in tokens, comma-separated; K, M, G mean 10^3, 10^6, 10^9. The cache"
              + " holds capacity / block-tokens whole blocks. Default: ${DEFAULT-VALUE}.")
  private List<Long> capacities = new ArrayList<>();

  @Option(
      names = "--policies",
      split = ",",
      paramLabel = "P",
      defaultValue = "opt,lru,leaf-lru,prefix-lru,tinylfu,tinylfu-blind",
      converter = PolicyConverter.class,
      description =
          "Policies to print, comma-separated, in this order. OPT is replayed for the ratio even"
              + " if not listed. Default: ${DEFAULT-VALUE}.")
  private List<Policy> policies = new ArrayList<>();

  @Option(
      names = "--block-tokens",
      paramLabel = "N",
      defaultValue = "512",
      description = "Tokens per block in the trace (Mooncake: 512). Default: ${DEFAULT-VALUE}.")
  private int blockTokens;

  @Option(
      names = "--json",
      description =
          "One JSON object per policy and capacity: policy, capacity_tokens, hit_ratio_blocks,"
              + " hit_ratio_tokens, ratio_to_opt, and \"default\": true on the store's default"
              + " policy.")
  private boolean json;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (blockTokens <= 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--block-tokens must be positive, was " + blockTokens);
    }
    for (long c : capacities) {
      if (c < blockTokens) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "--capacity-tokens "
                + c
                + " is less than one block of "
                + blockTokens
                + " tokens; give at least "
                + blockTokens);
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    Trace t;
    try {
      t = Trace.read(trace, blockTokens);
    } catch (NoSuchFileException e) {
      return fail("trace file not found: " + trace.toAbsolutePath());
    } catch (IOException e) {
      return fail(e.getMessage());
    }
    if (!json) {
      Replay.Result all = Replay.unbounded(t);
      out.printf(
          Locale.ROOT,
          "# %s: %d requests, %d blocks of %d tokens (%d distinct), %d input tokens%n",
          t.name(),
          t.requests(),
          t.totalBlocks(),
          t.blockTokens(),
          t.distinctBlocks(),
          t.totalTokens());
      out.printf(
          Locale.ROOT,
          "# unbounded cache, the most any policy reaches: %.2f%% of blocks, %.2f%% of tokens%n",
          100 * all.blockRatio(),
          100 * all.tokenRatio());
      out.printf(
          Locale.ROOT,
          "%-10s %9s  %-14s %12s %12s %8s%n",
          "capacity",
          "blocks",
          "policy",
          "hit(blocks)",
          "hit(tokens)",
          "vs opt");
    }
    ObjectMapper mapper = new ObjectMapper();
    for (long capacity : capacities) {
      long blocks = capacity / blockTokens;
      Map<Policy, Replay.Result> results = new EnumMap<>(Policy.class);
      results.put(Policy.OPT, Replay.run(t, blocks, Policy.OPT.create(t, blocks)));
      for (Policy p : new LinkedHashSet<>(policies)) {
        Replay.Result r =
            results.computeIfAbsent(p, q -> Replay.run(t, blocks, q.create(t, blocks)));
        double opt = results.get(Policy.OPT).blockRatio();
        double vsOpt = opt == 0 ? Double.NaN : r.blockRatio() / opt;
        if (json) {
          ObjectNode o = mapper.createObjectNode();
          o.put("policy", p.id());
          o.put("capacity_tokens", capacity);
          o.put("hit_ratio_blocks", r.blockRatio());
          o.put("hit_ratio_tokens", r.tokenRatio());
          if (Double.isNaN(vsOpt)) {
            o.putNull("ratio_to_opt");
          } else {
            o.put("ratio_to_opt", vsOpt);
          }
          if (p == Policy.DEFAULT) {
            o.put("default", true);
          }
          out.println(o);
        } else {
          out.printf(
              Locale.ROOT,
              "%-10s %9d  %-14s %11.2f%% %11.2f%% %8.3f%s%n",
              formatTokens(capacity),
              blocks,
              p.id(),
              100 * r.blockRatio(),
              100 * r.tokenRatio(),
              vsOpt,
              p == Policy.DEFAULT ? "  (default)" : "");
        }
      }
    }
    out.flush();
    return 0;
  }

  private int fail(String message) {
    spec.commandLine().getErr().println("kvhoard-perf hitratio: " + message);
    return 1;
  }

  /** {@code 10000000} as {@code 10M}; other counts as they are. */
  public static String formatTokens(long tokens) {
    if (tokens % 1_000_000_000 == 0) {
      return tokens / 1_000_000_000 + "G";
    } else if (tokens % 1_000_000 == 0) {
      return tokens / 1_000_000 + "M";
    } else if (tokens % 1_000 == 0) {
      return tokens / 1_000 + "K";
    }
    return Long.toString(tokens);
  }

  /**
   * Parses a token count: digits with an optional fraction and K, M or G suffix (decimal).
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  public static long parseTokens(String text) {
    Matcher m = TOKENS.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not a token count: give a number with an optional K, M or G (10^3, 10^6,"
              + " 10^9), e.g. 3M or 3000000");
    }
    double scale =
        switch (m.group(2).toUpperCase(Locale.ROOT)) {
          case "K" -> 1e3;
          case "M" -> 1e6;
          case "G" -> 1e9;
          default -> 1;
        };
    double value = Double.parseDouble(m.group(1)) * scale;
    if (value < 1 || value > Long.MAX_VALUE / 2 || value != Math.rint(value)) {
      throw new IllegalArgumentException("'" + text + "' is not a positive whole number of tokens");
    }
    return (long) value;
  }

  /** For picocli: {@link #parseTokens}. */
  static final class TokenCountConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parseTokens(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** For picocli: {@link Policy#byId}. */
  static final class PolicyConverter implements CommandLine.ITypeConverter<Policy> {
    @Override
    public Policy convert(String value) {
      try {
        return Policy.byId(value.trim());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
