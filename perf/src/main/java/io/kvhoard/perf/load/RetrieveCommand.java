package io.kvhoard.perf.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kvhoard.client.BlockMemory;
import io.kvhoard.client.KvHoardClient;
import io.kvhoard.client.RetrieveResult;
import io.kvhoard.client.StopReason;
import io.kvhoard.client.StoreResult;
import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.key.DType;
import io.kvhoard.protocol.key.KvLayout;
import io.kvhoard.protocol.key.Namespace;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard-perf retrieve}: the client library ({@link KvHoardClient}) storing and retrieving
 * one long prefix for a realistic KV layout from 1 and 3 kvhoard servers it starts on loopback,
 * against the server's raw data-plane throughput measured in the same run by the {@code blocks}
 * harness ({@link LoadRun}: one block per request, one request in flight per connection) at the
 * same number of connections. With no options: a Qwen3-0.6B-like layout (28 layers, 8 KV heads,
 * head dim 128, bf16, 16-token blocks: 1.75 MiB per block) and a 16k-token prefix (1.75 GiB).
 *
 * <p>Each server count gets fresh servers. The client first stores {@code --store-iterations} fresh
 * prefixes (timed: every block is new), the last of which it then retrieves {@code --iterations}
 * times into one direct buffer (timed, each block's CRC32C checked by the client); then the harness
 * measures GET and PUT of the same block size against the first server with {@code servers ×
 * connections} connections. {@code ratio_to_get} is the client's GB/s over the harness's GET GB/s.
 */
@Command(
    name = "retrieve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "The client library's retrieve and store of a long prefix from 1 and 3 kvhoard servers on"
          + " loopback, against the servers' raw data-plane GET throughput at the same number of"
          + " connections (the blocks harness), measured in the same run.",
      "GB = 10^9 bytes. Latency is per call (the whole prefix)."
    },
    exitCodeListHeading = "Exit status:%n",
    exitCodeList = {
      "0:every measurement done",
      "1:a measurement failed (a server error, an incomplete retrieve or store)",
      "2:bad usage"
    })
public final class RetrieveCommand implements Callable<Integer> {
  @Option(
      names = "--servers",
      split = ",",
      paramLabel = "N",
      defaultValue = "1,3",
      description = "Server counts, each a run of its own. Default: ${DEFAULT-VALUE}.")
  private List<Integer> servers = new ArrayList<>();

  @Option(
      names = "--tokens",
      defaultValue = "16384",
      description = "Prefix length in tokens. Default: ${DEFAULT-VALUE}.")
  private int tokens;

  @Option(names = "--layers", defaultValue = "28", description = "Default: ${DEFAULT-VALUE}.")
  private int layers;

  @Option(names = "--kv-heads", defaultValue = "8", description = "Default: ${DEFAULT-VALUE}.")
  private int kvHeads;

  @Option(names = "--head-dim", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
  private int headDim;

  @Option(
      names = "--block-tokens",
      defaultValue = "16",
      description = "Tokens per block. Default: ${DEFAULT-VALUE}.")
  private int blockTokens;

  @Option(
      names = "--connections",
      defaultValue = "4",
      description = "Client connections per server. Default: ${DEFAULT-VALUE}.")
  private int connections;

  @Option(
      names = "--frame-bytes",
      paramLabel = "SIZE",
      defaultValue = "2m",
      converter = BlocksCommand.SizeConverter.class,
      description =
          "Payload per data-plane frame the client aims at (at least one block)."
              + " Default: ${DEFAULT-VALUE}.")
  private long frameBytes;

  @Option(
      names = "--frames-in-flight",
      defaultValue = "2",
      description = "Frames the client keeps unanswered per connection. Default: ${DEFAULT-VALUE}.")
  private int framesInFlight;

  @Option(
      names = "--iterations",
      defaultValue = "8",
      description =
          "Timed retrieves per server count (after one untimed). Default: ${DEFAULT-VALUE}.")
  private int iterations;

  @Option(
      names = "--store-iterations",
      defaultValue = "3",
      description = "Timed stores of fresh prefixes per server count. Default: ${DEFAULT-VALUE}.")
  private int storeIterations;

  @Option(
      names = "--baseline",
      paramLabel = "TIME",
      defaultValue = "3s",
      converter = BlocksCommand.DurationConverter.class,
      description = "How long the harness measures GET and PUT. Default: ${DEFAULT-VALUE}.")
  private Duration baseline;

  @Option(
      names = "--json",
      description =
          "One JSON object per measurement: op, servers, tokens, gb_per_s, p50_ms, p99_ms,"
              + " ratio_to_get (and block_bytes, connections, calls, get_gb_per_s, put_gb_per_s,"
              + " ratio_to_put).")
  private boolean json;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  /** One measured operation of the client. */
  record Row(
      String op,
      int servers,
      int tokens,
      long blockBytes,
      int connections,
      double gbPerS,
      double p50Ms,
      double p99Ms,
      int calls,
      double getGbPerS,
      double putGbPerS,
      double memoryGetGbPerS) {}

  /**
   * Longest JIT warm-up of each started server (ended earlier once its compilers are idle); the
   * client's own warm-up is an untimed retrieve.
   */
  private static final Duration SERVER_WARM_UP = Duration.ofSeconds(30);

  @Override
  public Integer call() throws IOException {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    KvLayout layout = KvLayout.of(layers, kvHeads, headDim, DType.BFLOAT16, blockTokens);
    Namespace ns =
        Namespace.newBuilder()
            .modelId("kvhoard-perf/retrieve")
            .layout(layout)
            .hashSeed("0")
            .build();
    long blockBytes = layout.bytesPerBlock();
    int blocks = tokens / blockTokens;
    long prefixBytes = blocks * blockBytes;
    if (blockBytes > Integer.MAX_VALUE / 2 || prefixBytes > Integer.MAX_VALUE) {
      throw usage("the prefix (" + prefixBytes + " bytes) must fit one buffer: under 2 GiB");
    }
    PrintWriter notes = json ? err : out;
    notes.printf(
        Locale.ROOT,
        "# kvhoard-perf retrieve: %d tokens, %d blocks of %s (%s), %d client connections per"
            + " server; baseline: the blocks harness on server 1 with servers x %d connections,"
            + " %s; GB = 10^9 bytes%n",
        tokens,
        blocks,
        Units.formatBytes(blockBytes),
        Units.formatBytes(prefixBytes),
        connections,
        connections,
        baseline.toMillis() + " ms");
    notes.flush();
    ByteBuffer memory = ByteBuffer.allocateDirect((int) prefixBytes);
    SplittableRandom random = new SplittableRandom(1);
    while (memory.remaining() >= 8) {
      memory.putLong(random.nextLong());
    }
    memory.clear();
    Path workDir = Files.createTempDirectory("kvhoard-retrieve");
    boolean failed = false;
    List<Row> rows = new ArrayList<>();
    ObjectMapper mapper = new ObjectMapper();
    try {
      for (int n : servers) {
        try {
          for (Row r : measure(n, ns, (int) blockBytes, blocks, memory, workDir, err)) {
            rows.add(r);
            emit(r, mapper, out);
          }
        } catch (IOException | RuntimeException e) {
          failed = true;
          err.println("kvhoard-perf retrieve: " + n + " servers: FAILED: " + e.getMessage());
          if (json) {
            ObjectNode o = mapper.createObjectNode();
            o.put("servers", n);
            o.put("tokens", tokens);
            o.put("error", String.valueOf(e.getMessage()));
            out.println(o);
          }
        }
      }
      if (!json) {
        printTable(out, rows);
      }
      out.flush();
      err.flush();
      return failed ? 1 : 0;
    } finally {
      deleteTree(workDir);
    }
  }

  private void validate() {
    for (int n : servers) {
      if (n < 1 || n > 8) {
        throw usage("--servers " + n + " is out of range: give 1 to 8");
      }
    }
    if (blockTokens < 1 || tokens < blockTokens) {
      throw usage("--tokens must be at least one block (--block-tokens " + blockTokens + ")");
    }
    if (connections < 1 || connections > 16) {
      throw usage("--connections must be 1 to 16");
    }
    if (framesInFlight < 1 || framesInFlight > 1024) {
      throw usage("--frames-in-flight must be 1 to 1024");
    }
    if (iterations < 1 || storeIterations < 1) {
      throw usage("--iterations and --store-iterations must be at least 1");
    }
    if (layers < 1 || kvHeads < 1 || headDim < 1) {
      throw usage("--layers, --kv-heads and --head-dim must be at least 1");
    }
  }

  private List<Row> measure(
      int n,
      Namespace ns,
      int blockBytes,
      int blocks,
      ByteBuffer memory,
      Path workDir,
      PrintWriter err)
      throws IOException {
    long prefixBytes = (long) blocks * blockBytes;
    // Room for every stored prefix and the harness's working set, spread over the servers.
    long workingSet = Math.min(256L << 20, prefixBytes);
    long capacity =
        Math.max(
            256L << 20,
            ((storeIterations + 1) * prefixBytes) / n + 2 * workingSet + 16L * blockBytes);
    // One target per server (a target starts one server and keeps it). The baseline checks each
    // block's CRC32C like the client does, so the ratio is the client's own overhead.
    List<KvHoard> targets = new ArrayList<>();
    List<Server> started = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        KvHoard t =
            new KvHoard(
                Path.of(System.getProperty("java.home"), "bin", "java"),
                System.getProperty("java.class.path"),
                workDir,
                capacity,
                SERVER_WARM_UP,
                KvHoardConnection.NAMESPACE,
                ByteBufAllocator.DEFAULT,
                ProcFs.system(),
                err,
                true);
        targets.add(t);
        started.add(t.start(blockBytes));
      }
      KvHoard target = targets.get(0);
      List<ServerAddress> addresses = new ArrayList<>();
      for (Server s : started) {
        addresses.add(new ServerAddress("127.0.0.1", s.address().getPort()));
      }
      BlockMemory mem = BlockMemory.contiguous(memory, blockBytes);
      Row store;
      Row retrieve;
      try (KvHoardClient client =
          KvHoardClient.newBuilder()
              .namespace(ns)
              .servers(addresses)
              .connectionsPerServer(connections)
              .frameBytes(Math.max(4096, frameBytes))
              .framesInFlight(framesInFlight)
              .deadline(Duration.ofMinutes(2))
              .build()) {
        Histogram storeLatency = new Histogram(3);
        long storeNanos = 0;
        int[] prompt = null;
        for (int i = 0; i < storeIterations; i++) {
          prompt = prompt(i, blocks);
          long t0 = System.nanoTime();
          StoreResult s = client.store(prompt, mem);
          long t = System.nanoTime() - t0;
          if (s.stop() != StopReason.COMPLETE || s.written() != blocks) {
            throw new IOException("store " + i + " did not write every block: " + s);
          }
          storeLatency.recordValue(t);
          storeNanos += t;
        }
        if (client.retrieve(prompt, mem).blocks() != blocks) { // untimed: warm-up
          throw new IOException("the first retrieve did not get every block");
        }
        Histogram latency = new Histogram(3);
        long nanos = 0;
        double[] cpuStart = cpu(started);
        for (int i = 0; i < iterations; i++) {
          long t0 = System.nanoTime();
          RetrieveResult r = client.retrieve(prompt, mem);
          long t = System.nanoTime() - t0;
          if (r.stop() != StopReason.COMPLETE) {
            throw new IOException("retrieve " + i + " stopped at block " + r.blocks() + ": " + r);
          }
          latency.recordValue(t);
          nanos += t;
        }
        double[] cpuEnd = cpu(started);
        double gb = iterations * prefixBytes / 1e9;
        err.printf(
            Locale.ROOT,
            "kvhoard-perf retrieve: %d servers: retrieve CPU s/GB: client %.3f, servers %.3f%n",
            n,
            (cpuEnd[0] - cpuStart[0]) / gb,
            (cpuEnd[1] - cpuStart[1]) / gb);
        retrieve = row("retrieve", n, blockBytes, latency, iterations * prefixBytes, nanos);
        store =
            row("store", n, blockBytes, storeLatency, storeIterations * prefixBytes, storeNanos);
      }
      // The harness at the same number of connections, on the first server.
      int c = n * connections;
      AtomicInteger threads = new AtomicInteger();
      LoadRun run =
          new LoadRun(
              blockBytes,
              c,
              r -> {
                Thread t = new Thread(r, "retrieve-baseline-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
              },
              System::nanoTime,
              ProcFs.system());
      Duration warm = Duration.ofSeconds(1);
      LoadRun.Result get =
          run.measure(
              target,
              started.get(0),
              new LoadRun.Plan(Op.GET, c, warm, baseline, 0, workingSet, 1L << 40));
      Peer cached =
          rawGet(false, target, started.get(0), c, blockBytes, workingSet, 1L << 40, memory, warm);
      Peer inMemory =
          rawGet(true, target, started.get(0), c, blockBytes, workingSet, 1L << 40, memory, warm);
      double memoryGet = inMemory.gbPerS();
      err.printf(
          Locale.ROOT,
          "kvhoard-perf retrieve: %d servers: raw GET into one buffer per connection %.2f GB/s"
              + " (CPU s/GB client %.3f, server %.3f); into the retrieve's memory %.2f GB/s"
              + " (client %.3f, server %.3f)%n",
          n,
          cached.gbPerS(),
          cached.clientCpuPerGb(),
          cached.serverCpuPerGb(),
          inMemory.gbPerS(),
          inMemory.clientCpuPerGb(),
          inMemory.serverCpuPerGb());
      LoadRun.Result put =
          run.measure(
              target, started.get(0), new LoadRun.Plan(Op.PUT, c, warm, baseline, 0, 0, 2L << 40));
      err.printf(
          Locale.ROOT,
          "kvhoard-perf retrieve: %d servers: harness GET %.2f GB/s (into the retrieve's memory"
              + " %.2f), PUT %.2f GB/s at %d connections%n",
          n,
          get.gbPerSecond(),
          memoryGet,
          put.gbPerSecond(),
          c);
      err.flush();
      return List.of(
          withBaseline(retrieve, get.gbPerSecond(), put.gbPerSecond(), memoryGet),
          withBaseline(store, get.gbPerSecond(), put.gbPerSecond(), memoryGet));
    } finally {
      for (KvHoard t : targets) {
        t.close();
      }
    }
  }

  /** A raw GET peer's throughput and the CPU seconds per GB its client and servers spent. */
  record Peer(double gbPerS, double clientCpuPerGb, double serverCpuPerGb) {}

  /** CPU seconds so far of this JVM and of {@code servers} together ({@code [client, servers]}). */
  private static double[] cpu(List<Server> servers) {
    ProcFs proc = ProcFs.system();
    double client = proc.cpuSeconds(ProcessHandle.current().pid()).orElse(Double.NaN);
    double server = 0;
    for (Server s : servers) {
      server += s.pid().isPresent() ? proc.cpuSeconds(s.pid().getAsLong()).orElse(Double.NaN) : 0;
    }
    return new double[] {client, server};
  }

  /**
   * The harness's GET (same connections, one request in flight each, CRC32C checked, the same
   * working set, which the harness's GET stored under {@code keyBase}) with one change: each block
   * lands in the next 1.75 MiB slot of the retrieve's destination memory, in turn over all of it,
   * instead of one buffer per connection that stays in the CPU's caches. What the raw protocol
   * reaches when it writes the same bytes into the same kind of memory as a retrieve; in GB/s.
   */
  private Peer rawGet(
      boolean intoMemory,
      KvHoard target,
      Server server,
      int c,
      int blockBytes,
      long workingSet,
      long keyBase,
      ByteBuffer memory,
      Duration warm)
      throws IOException {
    long stored = Math.max(c, (workingSet + blockBytes - 1) / blockBytes);
    int mine = (int) ((stored + c - 1) / c);
    int slots = memory.capacity() / blockBytes / c * c; // each connection its own slots
    long[] bytes = new long[c];
    IOException[] failures = new IOException[c];
    long start = System.nanoTime();
    long measureFrom = start + warm.toNanos();
    long end = measureFrom + baseline.toNanos();
    long[] finished = new long[c];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      int index = i;
      Thread t =
          new Thread(
              () -> {
                long firstId = keyBase + ((long) index << 32) + (1L << 31);
                try (Connection conn = target.connect(server.address())) {
                  int slot = index;
                  ByteBuffer own = ByteBuffer.allocateDirect(blockBytes);
                  for (long k = 0; ; k++) {
                    long now = System.nanoTime();
                    if (now >= end) {
                      break;
                    }
                    ByteBuffer dst =
                        intoMemory ? memory.slice(slot * blockBytes, blockBytes) : own.clear();
                    slot = (slot + c) % slots;
                    int got = conn.get(firstId + k % mine, dst);
                    if (got != blockBytes) {
                      throw new IOException("the server lost block " + (firstId + k % mine));
                    }
                    if (now >= measureFrom) {
                      bytes[index] += got;
                    }
                  }
                  finished[index] = System.nanoTime();
                } catch (IOException e) {
                  failures[index] = e;
                }
              },
              "retrieve-memory-get-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    double[] cpuStart;
    try {
      Thread.sleep(Math.max(0, (measureFrom - System.nanoTime()) / 1_000_000));
      cpuStart = cpu(List.of(server));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    long total = 0;
    long last = end;
    for (int i = 0; i < c; i++) {
      try {
        threads.get(i).join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
      if (failures[i] != null) {
        throw failures[i];
      }
      total += bytes[i];
      last = Math.max(last, finished[i]);
    }
    double[] cpuEnd = cpu(List.of(server));
    double gb = total / 1e9;
    return new Peer(
        total / (double) (last - measureFrom),
        (cpuEnd[0] - cpuStart[0]) / gb,
        (cpuEnd[1] - cpuStart[1]) / gb);
  }

  private Row row(String op, int n, int blockBytes, Histogram latency, long bytes, long nanos) {
    return new Row(
        op,
        n,
        tokens / blockTokens * blockTokens,
        blockBytes,
        connections,
        nanos == 0 ? 0 : (double) bytes / nanos,
        latency.getValueAtPercentile(50) / 1e6,
        latency.getValueAtPercentile(99) / 1e6,
        (int) latency.getTotalCount(),
        0,
        0,
        0);
  }

  private static Row withBaseline(Row r, double get, double put, double memoryGet) {
    return new Row(
        r.op(),
        r.servers(),
        r.tokens(),
        r.blockBytes(),
        r.connections(),
        r.gbPerS(),
        r.p50Ms(),
        r.p99Ms(),
        r.calls(),
        get,
        put,
        memoryGet);
  }

  /** The prompt of the {@code i}-th prefix: token ids no other prefix of the run shares. */
  private int[] prompt(int i, int blocks) {
    SplittableRandom r = new SplittableRandom(1000 + i);
    int[] t = new int[blocks * blockTokens];
    for (int j = 0; j < t.length; j++) {
      t[j] = r.nextInt(151_000);
    }
    return t;
  }

  private void emit(Row r, ObjectMapper mapper, PrintWriter out) {
    if (!json) {
      spec.commandLine()
          .getErr()
          .printf(
              Locale.ROOT,
              "kvhoard-perf retrieve: %s from %d servers: %.2f GB/s (%.2fx GET)%n",
              r.op(),
              r.servers(),
              r.gbPerS(),
              ratio(r.gbPerS(), r.getGbPerS()));
      return;
    }
    ObjectNode o = mapper.createObjectNode();
    o.put("op", r.op());
    o.put("servers", r.servers());
    o.put("tokens", r.tokens());
    o.put("gb_per_s", r.gbPerS());
    o.put("p50_ms", r.p50Ms());
    o.put("p99_ms", r.p99Ms());
    o.put("ratio_to_get", ratio(r.gbPerS(), r.getGbPerS()));
    o.put("block_bytes", r.blockBytes());
    o.put("connections", r.connections());
    o.put("calls", r.calls());
    o.put("get_gb_per_s", r.getGbPerS());
    o.put("put_gb_per_s", r.putGbPerS());
    o.put("ratio_to_put", ratio(r.gbPerS(), r.putGbPerS()));
    o.put("memory_get_gb_per_s", r.memoryGetGbPerS());
    o.put("ratio_to_memory_get", ratio(r.gbPerS(), r.memoryGetGbPerS()));
    out.println(o);
    out.flush();
  }

  private static double ratio(double a, double b) {
    return b == 0 ? 0 : a / b;
  }

  private static void printTable(PrintWriter out, List<Row> rows) {
    out.printf(
        Locale.ROOT,
        "%-9s %7s %7s %8s %9s %9s %8s %8s %7s%n",
        "op",
        "servers",
        "tokens",
        "GB/s",
        "p50 ms",
        "p99 ms",
        "GET GB/s",
        "vs GET",
        "vs PUT");
    for (Row r :
        rows.stream()
            .sorted(Comparator.comparing(Row::op).thenComparingInt(Row::servers))
            .toList()) {
      out.printf(
          Locale.ROOT,
          "%-9s %7d %7d %8.3f %9.1f %9.1f %8.3f %8.2f %7.2f%n",
          r.op(),
          r.servers(),
          r.tokens(),
          r.gbPerS(),
          r.p50Ms(),
          r.p99Ms(),
          r.getGbPerS(),
          ratio(r.gbPerS(), r.getGbPerS()),
          ratio(r.gbPerS(), r.putGbPerS()));
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary directory: the OS cleans it eventually
    }
  }
}
