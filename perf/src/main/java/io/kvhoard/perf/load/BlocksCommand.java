package io.kvhoard.perf.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard-perf blocks}: PUT and GET of fixed-size blocks over loopback against kvhoard, its
 * peers (memcached, Redis) and the raw pump (the machine's copy limit), all driven by the same
 * harness ({@link LoadRun}) speaking each system's protocol on raw sockets; prints GB/s, latency
 * percentiles, the server's CPU per GB, and each system's ratio to the raw pump measured in the
 * same run. With no options it runs the standard comparison of issue 4 in under five minutes.
 *
 * <p>Each measurement gets a server started for it alone (on a free port, stopped afterwards;
 * memcached and Redis are installed with apt-get when missing), and the systems take turns
 * measurement by measurement (raw, memcached, redis, kvhoard at one size, connection count and
 * operation, then the next), so that each ratio compares figures taken seconds apart on a machine
 * whose neighbours come and go.
 */
@Command(
    name = "blocks",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Block load over loopback: kvhoard vs memcached, Redis and a raw Java socket pump, the same"
          + " harness speaking each one's protocol on raw sockets (one request in flight per"
          + " connection).",
      "PUT stores fresh keys; GET reads a working set stored beforehand and checks every block."
          + " GB = 10^9 bytes. Latency is per operation. CPU s/GB: user+sys seconds of the server"
          + " process per GB moved. 'vs raw': GB/s over the raw pump's in the same run.",
      "memcached and redis-server are installed with apt-get (perf/scripts/install-peers.sh) when"
          + " missing; kvhoard is started from this jar (kvhoard serve, RAM tier) unless --kvhoard"
          + " names a running server."
    },
    exitCodeListHeading = "Exit status:%n",
    exitCodeList = {
      "0:every measurement done",
      "1:a measurement failed (wrong data, a server error, a server that would not start)",
      "2:bad usage"
    })
public final class BlocksCommand implements Callable<Integer> {
  /** Every system, in the order they are measured (the raw pump first: the others' reference). */
  static final List<String> SYSTEMS = List.of("raw", "memcached", "redis", "kvhoard");

  private static final long MAX_BLOCK_BYTES = 1 << 30;
  private static final int MAX_CONNECTIONS = 64;

  @Option(
      names = "--systems",
      split = ",",
      paramLabel = "NAME",
      defaultValue = "raw,memcached,redis,kvhoard",
      description =
          "Systems to measure: raw, memcached, redis, kvhoard. Default: ${DEFAULT-VALUE}.")
  private List<String> systems = new ArrayList<>();

  @Option(
      names = "--sizes",
      split = ",",
      paramLabel = "SIZE",
      defaultValue = "256k,2m,32m",
      converter = SizeConverter.class,
      description = "Block sizes (k, m: KiB, MiB). Default: ${DEFAULT-VALUE}.")
  private List<Long> sizes = new ArrayList<>();

  @Option(
      names = "--connections",
      split = ",",
      paramLabel = "N",
      defaultValue = "1,4",
      description = "Connection counts, one thread each. Default: ${DEFAULT-VALUE}.")
  private List<Integer> connections = new ArrayList<>();

  @Option(
      names = "--ops",
      split = ",",
      paramLabel = "OP",
      defaultValue = "get,put",
      converter = OpConverter.class,
      description = "Operations: get, put. Default: ${DEFAULT-VALUE}.")
  private List<Op> ops = new ArrayList<>();

  @Option(
      names = "--duration",
      paramLabel = "TIME",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "How long each measurement runs (ms, s, m). Default: ${DEFAULT-VALUE}.")
  private Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "TIME",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "Load before each measurement, not recorded. Default: ${DEFAULT-VALUE}.")
  private Duration warmup;

  @Option(
      names = "--check-crc",
      description =
          "kvhoard: also check the CRC32C of every block read, as its client library does. Off by"
              + " default: every system's blocks get the same checks (length, first and last 8"
              + " bytes), so that servers are compared, not clients.")
  private boolean checkCrc;

  @Option(
      names = "--jit-warmup",
      paramLabel = "TIME",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "kvhoard started here: the longest load before its first measurement, ended earlier once"
              + " its JIT compilers are idle (the peers are C programs; 0 = no warm-up). Default:"
              + " ${DEFAULT-VALUE}.")
  private Duration jitWarmup;

  @Option(
      names = "--bytes",
      paramLabel = "SIZE",
      converter = SizeConverter.class,
      description =
          "Measure until the connections moved this many bytes together, instead of --duration.")
  private Long bytes;

  @Option(
      names = "--working-set",
      paramLabel = "SIZE",
      defaultValue = "256m",
      converter = SizeConverter.class,
      description =
          "Bytes stored before each GET measurement and read in turn (larger than the CPU caches)."
              + " Default: ${DEFAULT-VALUE}.")
  private long workingSet;

  @Option(
      names = "--kvhoard",
      paramLabel = "HOST:PORT",
      description =
          "The data-plane address of a running kvhoard server to measure instead of starting"
              + " one.")
  private String kvhoard;

  @Option(
      names = "--json",
      description =
          "One JSON object per measurement: system, op, block_bytes, connections, gb_per_s,"
              + " p50_ms, p99_ms, p999_ms, server_cpu_s_per_gb (null if unknown), ratio_to_raw"
              + " (null without raw); or error instead of the figures.")
  private boolean json;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  /** One measurement's outcome: a result or why there is none. */
  private record Row(
      String system,
      Op op,
      long blockBytes,
      int connections,
      LoadRun.Result result,
      String error,
      OptionalDouble ratioToRaw) {}

  @Override
  public Integer call() throws IOException {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path workDir = Files.createTempDirectory("kvhoard-blocks");
    try {
      Map<String, Target> targets = targets(workDir, err);
      boolean failed = targets.size() < plannedSystems().size();
      PrintWriter notes = json ? err : out;
      notes.printf(
          Locale.ROOT,
          "# kvhoard-perf blocks: loopback, one request in flight per connection, %s per"
              + " measurement after %s warm-up; GB = 10^9 bytes; CPU s/GB: the server process's"
              + " user+sys seconds per GB moved%n",
          bytes != null ? Units.formatBytes(bytes) : duration.toMillis() + " ms",
          warmup.toMillis() + " ms");
      for (Target t : targets.values()) {
        notes.println("# " + t.name() + ": " + t.describe());
      }
      notes.flush();
      List<Row> rows;
      try {
        rows = run(targets, out, err);
      } finally {
        for (Target t : targets.values()) {
          if (t instanceof AutoCloseable c) {
            try {
              c.close();
            } catch (Exception e) {
              err.println("# could not stop " + t.name() + ": " + e);
            }
          }
        }
      }
      if (!json) {
        printTable(out, rows);
      }
      out.flush();
      failed |= rows.stream().anyMatch(r -> r.error() != null);
      return failed ? 1 : 0;
    } finally {
      deleteTree(workDir);
    }
  }

  private void validate() {
    for (String s : systems) {
      if (!SYSTEMS.contains(s)) {
        throw usage("unknown system '" + s + "': give some of " + String.join(",", SYSTEMS));
      }
    }
    for (long size : sizes) {
      if (size < BlockContent.MIN_BLOCK_BYTES || size > MAX_BLOCK_BYTES) {
        throw usage("block size " + size + " is out of range: give 16 bytes to 1 GiB");
      }
    }
    for (int c : connections) {
      if (c < 1 || c > MAX_CONNECTIONS) {
        throw usage("--connections " + c + " is out of range: give 1 to " + MAX_CONNECTIONS);
      }
    }
    long points = (long) sizes.size() * connections.size() * ops.size() * systems.size();
    if (points > 255) {
      throw usage(
          points
              + " measurements asked for: give at most 255 (sizes x connections x ops x systems)");
    }
    if (bytes == null && duration.isZero()) {
      throw usage("--duration must be more than 0");
    }
    if (bytes != null && bytes <= 0) {
      throw usage("--bytes must be more than 0");
    }
    if (kvhoard != null) {
      kvhoardAddress();
    }
  }

  private List<String> plannedSystems() {
    return SYSTEMS.stream().filter(systems::contains).toList();
  }

  /** The targets that can run, in measuring order; notes on stderr for those that cannot. */
  private Map<String, Target> targets(Path workDir, PrintWriter err) {
    Map<String, Target> targets = new LinkedHashMap<>();
    long maxBlock = sizes.stream().mapToLong(Long::longValue).max().orElse(0);
    long memory = Math.max(1L << 30, 2 * workingSet + 8 * maxBlock);
    Peers peers = new Peers(System.getenv("PATH"));
    List<String> binaries = new ArrayList<>();
    if (systems.contains("memcached")) {
      binaries.add(Memcached.BINARY);
    }
    if (systems.contains("redis")) {
      binaries.add(Redis.BINARY);
    }
    if (!binaries.isEmpty()) {
      try {
        peers.ensureInstalled(binaries, workDir);
      } catch (IOException e) {
        err.println("kvhoard-perf blocks: " + e.getMessage());
      }
    }
    for (String name : plannedSystems()) {
      switch (name) {
        case "raw" ->
            targets.put(
                name,
                new RawPump(
                    Path.of(System.getProperty("java.home"), "bin", "java"),
                    System.getProperty("java.class.path"),
                    workDir,
                    workingSet + 2 * maxBlock));
        case "memcached" ->
            peers
                .which(Memcached.BINARY)
                .ifPresent(
                    b ->
                        targets.put(
                            name,
                            new Memcached(b, workDir, memory, System.getProperty("user.name"))));
        case "redis" ->
            peers
                .which(Redis.BINARY)
                .ifPresent(b -> targets.put(name, new Redis(b, workDir, memory)));
        default -> {
          if (kvhoard == null) {
            targets.put(
                name,
                new KvHoard(
                    Path.of(System.getProperty("java.home"), "bin", "java"),
                    System.getProperty("java.class.path"),
                    workDir,
                    memory,
                    jitWarmup,
                    KvHoardConnection.NAMESPACE,
                    ByteBufAllocator.DEFAULT,
                    ProcFs.system(),
                    err,
                    checkCrc));
          } else {
            targets.put(
                name,
                new KvHoard(
                    kvhoardAddress(),
                    KvHoardConnection.NAMESPACE,
                    ByteBufAllocator.DEFAULT,
                    ProcFs.system(),
                    checkCrc));
          }
        }
      }
    }
    err.flush();
    return targets;
  }

  private List<Row> run(Map<String, Target> targets, PrintWriter out, PrintWriter err) {
    ObjectMapper mapper = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    Map<String, Double> rawGbPerS = new HashMap<>();
    int maxConnections = connections.stream().mapToInt(Integer::intValue).max().orElse(1);
    AtomicInteger threadCount = new AtomicInteger();
    // Block ids: a random run id in bits 48..59 (so runs against one --kvhoard server never reuse
    // each other's keys), the measurement in bits 40..47, the block below; the started server's
    // warm-up uses ids from 2^60 up.
    long runId = ThreadLocalRandom.current().nextLong(1, 1 << 12) << 48;
    long measurement = 0;
    for (long size : sizes) {
      LoadRun run =
          new LoadRun(
              (int) size,
              maxConnections,
              r -> {
                Thread t = new Thread(r, "blocks-connection-" + threadCount.incrementAndGet());
                t.setDaemon(true);
                return t;
              },
              System::nanoTime,
              ProcFs.system());
      for (int c : connections) {
        for (Op op : ops) {
          for (Target target : targets.values()) {
            Row row = measure(run, target, op, c, runId | ++measurement << 40, rawGbPerS);
            rows.add(row);
            emit(row, mapper, out, err);
          }
        }
      }
    }
    return rows;
  }

  /**
   * One measurement on a server started for it alone (an empty cache: what one measurement stored
   * or evicted cannot change the next), stopped afterwards, also if this JVM is killed; a kvhoard
   * server started here is the exception: started and warmed up once, it serves every measurement
   * with keys of its own (see {@link KvHoard}).
   */
  private Row measure(
      LoadRun run, Target target, Op op, int c, long keyBase, Map<String, Double> rawGbPerS) {
    long size = run.blockBytes();
    Server server;
    try {
      server = target.start(run.blockBytes());
    } catch (IOException e) {
      return failure(target, op, size, c, "could not start: " + e.getMessage());
    }
    Thread stopOnExit = new Thread(server::close, "blocks-stop-" + target.name());
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    try (server) {
      LoadRun.Plan plan =
          new LoadRun.Plan(op, c, warmup, duration, bytes == null ? 0 : bytes, workingSet, keyBase);
      LoadRun.Result r = run.measure(target, server, plan);
      String key = op + "/" + size + "/" + c;
      if (target.name().equals("raw")) {
        rawGbPerS.put(key, r.gbPerSecond());
      }
      Double raw = rawGbPerS.get(key);
      OptionalDouble ratio =
          raw == null || raw == 0
              ? OptionalDouble.empty()
              : OptionalDouble.of(r.gbPerSecond() / raw);
      return new Row(target.name(), op, size, c, r, null, ratio);
    } catch (IOException e) {
      return failure(target, op, size, c, e.getMessage());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private static Row failure(Target target, Op op, long size, int connections, String error) {
    return new Row(target.name(), op, size, connections, null, error, OptionalDouble.empty());
  }

  /** JSON: the row's object on stdout. Table: a progress line on stderr (the table comes last). */
  private void emit(Row row, ObjectMapper mapper, PrintWriter out, PrintWriter err) {
    if (!json) {
      err.println(
          "kvhoard-perf blocks: "
              + row.system()
              + " "
              + row.op().id()
              + " "
              + Units.formatBytes(row.blockBytes())
              + " x"
              + row.connections()
              + ": "
              + (row.result() != null
                  ? String.format(Locale.ROOT, "%.2f GB/s", row.result().gbPerSecond())
                  : "FAILED: " + row.error()));
      err.flush();
      return;
    }
    ObjectNode o = mapper.createObjectNode();
    o.put("system", row.system());
    o.put("op", row.op().id());
    o.put("block_bytes", row.blockBytes());
    o.put("connections", row.connections());
    LoadRun.Result r = row.result();
    if (r == null) {
      o.put("error", row.error());
    } else {
      o.put("gb_per_s", r.gbPerSecond());
      o.put("p50_ms", r.latencyMs(50));
      o.put("p99_ms", r.latencyMs(99));
      o.put("p999_ms", r.latencyMs(99.9));
      OptionalDouble cpu = r.serverCpuSecondsPerGb();
      if (cpu.isPresent()) {
        o.put("server_cpu_s_per_gb", cpu.getAsDouble());
      } else {
        o.putNull("server_cpu_s_per_gb");
      }
      if (row.ratioToRaw().isPresent()) {
        o.put("ratio_to_raw", row.ratioToRaw().getAsDouble());
      } else {
        o.putNull("ratio_to_raw");
      }
      o.put("ops", r.ops());
      o.put("seconds", r.nanos() / 1e9);
    }
    out.println(o);
    out.flush();
  }

  private static void printTable(PrintWriter out, List<Row> rows) {
    out.printf(
        Locale.ROOT,
        "%-10s %-4s %8s %5s %8s %7s %9s %9s %9s %9s%n",
        "system",
        "op",
        "block",
        "conns",
        "GB/s",
        "vs raw",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "CPU s/GB");
    Comparator<Row> order =
        Comparator.comparingLong(Row::blockBytes)
            .thenComparing(Row::op)
            .thenComparingInt(Row::connections)
            .thenComparingInt(r -> SYSTEMS.indexOf(r.system()));
    for (Row row : rows.stream().sorted(order).toList()) {
      String lead =
          String.format(
              Locale.ROOT,
              "%-10s %-4s %8s %5d",
              row.system(),
              row.op().id(),
              Units.formatBytes(row.blockBytes()),
              row.connections());
      LoadRun.Result r = row.result();
      if (r == null) {
        out.println(lead + "  FAILED: " + row.error());
        continue;
      }
      OptionalDouble cpu = r.serverCpuSecondsPerGb();
      out.printf(
          Locale.ROOT,
          "%s %8.3f %7s %9.3f %9.3f %9.3f %9s%n",
          lead,
          r.gbPerSecond(),
          row.ratioToRaw().isPresent()
              ? String.format(Locale.ROOT, "%.2f", row.ratioToRaw().getAsDouble())
              : "-",
          r.latencyMs(50),
          r.latencyMs(99),
          r.latencyMs(99.9),
          cpu.isPresent() ? String.format(Locale.ROOT, "%.3f", cpu.getAsDouble()) : "-");
    }
  }

  private InetSocketAddress kvhoardAddress() {
    int colon = kvhoard.lastIndexOf(':');
    if (colon <= 0 || colon == kvhoard.length() - 1) {
      throw usage("--kvhoard '" + kvhoard + "' is not HOST:PORT");
    }
    try {
      int port = Integer.parseInt(kvhoard.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      String host = kvhoard.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new InetSocketAddress(host, port);
    } catch (NumberFormatException e) {
      throw usage("--kvhoard '" + kvhoard + "' has no valid port (1 to 65535)");
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // a temporary directory; the OS cleans it eventually
    }
  }

  /** For picocli: {@link Units#parseBytes}. */
  static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Units.parseBytes(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** For picocli: {@link Units#parseDuration}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Units.parseDuration(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** For picocli: {@link Op#byId}. */
  static final class OpConverter implements CommandLine.ITypeConverter<Op> {
    @Override
    public Op convert(String value) {
      try {
        return Op.byId(value.trim().toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
