package io.kvhoard.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kvhoard.server.index.vllm.VllmEndpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The settings of one cache server, resolved from, in order of precedence: command-line flags, the
 * environment ({@code KVHOARD_*}), a YAML file ({@code --config}), and the defaults of {@link
 * Setting}. Every value is validated here, so a server never starts with a setting it cannot
 * honour; the error names the setting and where its value came from.
 *
 * @param hostCapacity bytes of the host tier
 * @param diskCapacity bytes of the disk tier; 0 when disabled
 * @param ioThreads event-loop threads; 0 = two per CPU, at least 4
 * @param sendBuffer SO_SNDBUF of data-plane connections in bytes; 0 = the kernel's autotuning
 * @param vllmEvents the vLLM pods whose KV events to follow; empty for none
 * @param vllmReplayTimeout how long a vLLM pod's replay may take before the pod is cleared
 */
public record ServerConfig(
    Path dataDir,
    String bind,
    int dataPort,
    int grpcPort,
    int httpPort,
    long hostCapacity,
    boolean hostPretouch,
    long diskCapacity,
    int pageSize,
    int blockTokens,
    long directoryEntries,
    int ioThreads,
    int sendBuffer,
    int maxFrame,
    long connectionInflight,
    long globalInflight,
    Duration requestTimeout,
    Duration idleTimeout,
    Duration shutdownGrace,
    IndexSettings index,
    List<VllmEndpoint> vllmEvents,
    Duration vllmReplayTimeout) {
  /** The largest automatic host tier. */
  static final long AUTO_HOST_CAP = 8L << 30;

  /** The largest automatic disk tier. */
  static final long AUTO_DISK_CAP = 64L << 30;

  public ServerConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(index, "index");
    vllmEvents = List.copyOf(vllmEvents);
  }

  /** The tiers' and directory's paths under the data directory. */
  public Path diskDirectory() {
    return dataDir.resolve("disk");
  }

  public Path directoryFile() {
    return dataDir.resolve("directory.cm3");
  }

  /**
   * Resolves every setting.
   *
   * @param flags values given on the command line, by setting
   * @param env the environment (usually {@code System.getenv()})
   * @param configFile a YAML file of {@code name: value} pairs, or {@code null}
   * @throws ConfigException naming the first invalid setting and its source
   */
  public static ServerConfig resolve(
      Map<Setting, String> flags, Map<String, String> env, Path configFile) throws ConfigException {
    Map<Setting, String> yaml = configFile == null ? Map.of() : readYaml(configFile);
    Map<Setting, Source> values = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      if (flags.containsKey(s)) {
        values.put(s, new Source(flags.get(s), "flag " + s.flag()));
      } else if (env.containsKey(s.env())) {
        values.put(s, new Source(env.get(s.env()), "environment variable " + s.env()));
      } else if (yaml.containsKey(s)) {
        values.put(s, new Source(yaml.get(s), "'" + s.key() + "' in " + configFile));
      } else {
        values.put(s, new Source(s.defaultValue(), "the default of " + s.flag()));
      }
    }
    Resolver r = new Resolver(values);
    Path dataDir = Path.of(r.text(Setting.DATA_DIR));
    int pageSize = (int) r.size(Setting.PAGE_SIZE, 4096, 64L << 20);
    if (Integer.bitCount(pageSize) != 1) {
      throw r.invalid(Setting.PAGE_SIZE, "must be a power of two");
    }
    long host =
        r.isAuto(Setting.HOST_CAPACITY)
            ? autoHostCapacity(pageSize)
            : r.size(Setting.HOST_CAPACITY, pageSize, Long.MAX_VALUE);
    long disk =
        r.isAuto(Setting.DISK_CAPACITY)
            ? autoDiskCapacity(dataDir)
            : r.size(Setting.DISK_CAPACITY, 0, Long.MAX_VALUE);
    long entries =
        r.isAuto(Setting.DIRECTORY_ENTRIES)
            ? Math.max(100_000, (host + disk) / (64 << 10))
            : r.number(Setting.DIRECTORY_ENTRIES, 1024, 1L << 32);
    ServerConfig c =
        new ServerConfig(
            dataDir,
            r.text(Setting.BIND),
            (int) r.number(Setting.DATA_PORT, 0, 65535),
            (int) r.number(Setting.GRPC_PORT, 0, 65535),
            (int) r.number(Setting.HTTP_PORT, 0, 65535),
            host,
            r.bool(Setting.HOST_PRETOUCH),
            disk,
            pageSize,
            (int) r.number(Setting.BLOCK_TOKENS, 1, 1 << 20),
            entries,
            (int) r.number(Setting.IO_THREADS, 0, 1024),
            (int) r.size(Setting.SEND_BUFFER, 0, 1L << 30),
            (int) r.size(Setting.MAX_FRAME, 4096, 1L << 30),
            r.size(Setting.CONNECTION_INFLIGHT, 1 << 20, Long.MAX_VALUE),
            r.size(Setting.GLOBAL_INFLIGHT, 1 << 20, Long.MAX_VALUE),
            r.duration(Setting.REQUEST_TIMEOUT),
            r.duration(Setting.IDLE_TIMEOUT),
            r.duration(Setting.SHUTDOWN_GRACE),
            indexSettings(r),
            r.parse(Setting.VLLM_EVENTS, VllmEndpoint::parseList),
            r.duration(Setting.VLLM_REPLAY_TIMEOUT));
    List<Integer> ports = new ArrayList<>();
    for (int p : new int[] {c.dataPort, c.grpcPort, c.httpPort}) {
      if (p != 0 && ports.contains(p)) {
        throw new ConfigException(
            "--data-port, --grpc-port and --http-port must differ; "
                + p
                + " is given twice (0 picks a free port)");
      }
      ports.add(p);
    }
    return c;
  }

  private static IndexSettings indexSettings(Resolver r) throws ConfigException {
    String[] w = r.text(Setting.INDEX_TIER_WEIGHTS).split(",", -1);
    if (w.length != 3) {
      throw r.invalid(Setting.INDEX_TIER_WEIGHTS, "must be three numbers: gpu,host,disk");
    }
    double[] weights = new double[3];
    for (int i = 0; i < 3; i++) {
      try {
        weights[i] = Double.parseDouble(w[i].trim());
      } catch (NumberFormatException e) {
        throw r.invalid(Setting.INDEX_TIER_WEIGHTS, "'" + w[i] + "' is not a number");
      }
    }
    if (!(weights[0] <= 1 && weights[0] >= weights[1] && weights[1] >= weights[2])
        || !(weights[2] >= 0)) {
      throw r.invalid(Setting.INDEX_TIER_WEIGHTS, "must satisfy 1 >= gpu >= host >= disk >= 0");
    }
    double unit;
    try {
      unit = Double.parseDouble(r.text(Setting.INDEX_LOAD_UNIT));
    } catch (NumberFormatException e) {
      throw r.invalid(Setting.INDEX_LOAD_UNIT, "is not a number of seconds");
    }
    if (!(unit >= 0) || Double.isInfinite(unit)) {
      throw r.invalid(Setting.INDEX_LOAD_UNIT, "must be 0 or more seconds");
    }
    return new IndexSettings(
        r.number(Setting.INDEX_CAPACITY, 16, 1L << 36),
        (int) r.number(Setting.INDEX_BLOCK_TOKENS, 1, 256),
        r.duration(Setting.INDEX_POD_TTL),
        weights[0],
        weights[1],
        weights[2],
        unit);
  }

  private record Source(String value, String origin) {}

  /** Reads and validates settings by name, naming the source of a bad value. */
  private static final class Resolver {
    private final Map<Setting, Source> values;

    Resolver(Map<Setting, Source> values) {
      this.values = values;
    }

    String text(Setting s) throws ConfigException {
      String v = values.get(s).value().trim();
      if (v.isEmpty()) {
        throw invalid(s, "must not be empty");
      }
      return v;
    }

    boolean isAuto(Setting s) {
      return values.get(s).value().trim().equalsIgnoreCase("auto");
    }

    long size(Setting s, long min, long max) throws ConfigException {
      long v = parse(s, Values::parseSize);
      if (v < min || v > max) {
        throw invalid(
            s,
            "must be between "
                + Values.formatSize(min)
                + " and "
                + (max == Long.MAX_VALUE ? "unbounded" : Values.formatSize(max)));
      }
      return v;
    }

    long number(Setting s, long min, long max) throws ConfigException {
      long v =
          parse(
              s,
              t -> {
                try {
                  return Long.parseLong(t.trim());
                } catch (NumberFormatException e) {
                  throw new IllegalArgumentException("'" + t + "' is not a whole number", e);
                }
              });
      if (v < min || v > max) {
        throw invalid(s, "must be between " + min + " and " + max);
      }
      return v;
    }

    boolean bool(Setting s) throws ConfigException {
      String v = values.get(s).value().trim().toLowerCase(Locale.ROOT);
      return switch (v) {
        case "true", "yes", "on", "1" -> true;
        case "false", "no", "off", "0" -> false;
        default -> throw invalid(s, "must be true or false");
      };
    }

    Duration duration(Setting s) throws ConfigException {
      Duration d = parse(s, Values::parseDuration);
      if (d.isZero()) {
        throw invalid(s, "must be longer than zero");
      }
      return d;
    }

    private <T> T parse(Setting s, Function<String, T> parser) throws ConfigException {
      try {
        return parser.apply(values.get(s).value());
      } catch (IllegalArgumentException e) {
        throw invalid(s, e.getMessage());
      }
    }

    ConfigException invalid(Setting s, String why) {
      Source src = values.get(s);
      return new ConfigException(
          "invalid setting "
              + s.flag()
              + " = '"
              + src.value()
              + "' (from "
              + src.origin()
              + "): "
              + why);
    }
  }

  private static Map<Setting, String> readYaml(Path file) throws ConfigException {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException(
          "cannot read the config file " + file + ": " + e.getMessage().split("\n")[0], e);
    }
    Map<Setting, String> out = new EnumMap<>(Setting.class);
    if (root == null || root.isMissingNode() || root.isNull()) {
      return out;
    }
    if (!root.isObject()) {
      throw new ConfigException(
          "the config file " + file + " must be a map of setting: value pairs");
    }
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      Setting s = byKey(e.getKey());
      if (s == null) {
        throw new ConfigException(
            "unknown setting '"
                + e.getKey()
                + "' in "
                + file
                + "; known: "
                + String.join(", ", keys()));
      }
      if (!e.getValue().isValueNode()) {
        throw new ConfigException(
            "setting '" + e.getKey() + "' in " + file + " must be a single value");
      }
      out.put(s, e.getValue().asText());
    }
    return out;
  }

  private static Setting byKey(String key) {
    for (Setting s : Setting.values()) {
      if (s.key().equals(key.toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    return null;
  }

  private static List<String> keys() {
    List<String> out = new ArrayList<>();
    for (Setting s : Setting.values()) {
      out.add(s.key());
    }
    return out;
  }

  private static long autoHostCapacity(int pageSize) {
    long physical = 8L << 30;
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      physical = os.getTotalMemorySize();
    }
    long bytes = Math.min(physical / 4, AUTO_HOST_CAP);
    return Math.max(pageSize, bytes / pageSize * pageSize);
  }

  private static long autoDiskCapacity(Path dataDir) {
    Path probe = dataDir.toAbsolutePath();
    while (probe != null && !Files.exists(probe)) {
      probe = probe.getParent();
    }
    long free = 0;
    try {
      free = probe == null ? 0 : Files.getFileStore(probe).getUsableSpace();
    } catch (IOException e) {
      free = 0;
    }
    return Math.min(free / 2, AUTO_DISK_CAP);
  }
}
