package io.kvhoard.perf.bench;

import com.google.protobuf.ByteString;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.server.index.PodMatch;
import io.kvhoard.server.index.PrefixIndex;
import io.kvhoard.server.index.Scorer;
import io.kvhoard.server.index.Scoring;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard-perf index}: issue 6's prefix-index benchmarks in one run, each printed with its
 * goal and the peer measured beside it.
 *
 * <ul>
 *   <li>Apply throughput: vLLM-style {@code BlockStored} events (token ids, 64 blocks of 16 per
 *       event, chained by parent key) applied to the real index by 1 and by 2 threads, blocks/s
 *       (goal >= 1M/s on 2 cores); the index ends with {@code --entries} (block, pod) entries
 *       across {@code --pods} pods.
 *   <li>Score latency: {@link Scoring#forTokens} (canonical keys of the tokens hashed group by
 *       group as the index matches them, {@link PrefixIndex#matchTokens}, then the scorer) for a
 *       prompt of {@code --prompt-blocks} blocks of 16 tokens that 3 pods hold whole and 7 more in
 *       part, p50/p99 over {@code --queries} queries (goal p99 < 1 ms); and the match alone, keys
 *       given, against the same match on a plain on-heap {@code HashMap<Long, long[]>} index of the
 *       same entries, in the same loop.
 *   <li>Memory: off-heap bytes of the block table per (block, pod) entry (goal <= 48), of the
 *       engine-key map per engine block, and the heap map's bytes per entry (used heap after GC).
 * </ul>
 *
 * <p>Run: {@code java -Xmx8g -XX:MaxDirectMemorySize=2g -jar perf/target/kvhoard-perf.jar index}.
 */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    description = {
      "Prefix index benchmarks: event apply throughput, score latency for a long prompt against a"
          + " large index (vs an on-heap HashMap index), bytes per entry."
    })
public final class IndexBenchCommand implements Callable<Integer> {
  private static final Namespace NS = Namespace.newBuilder().setModelId("bench").build();
  private static final int B = 16;
  private static final int DOC_BLOCKS = 64;

  @Option(names = "--entries", defaultValue = "10000000", description = "(block, pod) entries.")
  private long entries;

  @Option(names = "--pods", defaultValue = "100", description = "Pods.")
  private int pods;

  @Option(
      names = "--prompt-blocks",
      defaultValue = "8192",
      description = "Blocks of 16 tokens of the scored prompt (8192 = 128k tokens).")
  private int promptBlocks;

  @Option(names = "--queries", defaultValue = "3000", description = "Measured score queries.")
  private int queries;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  private static BlockKey key(long k) {
    return BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, k)))
        .build();
  }

  /** Events of one pod's document: blocks of DOC_BLOCKS, chained from block 0 of the doc. */
  private static BlockEvent event(
      String pod, long[] tokens, int fromBlock, int blocks, long keyBase) {
    BlockStored.Builder s = BlockStored.newBuilder().setBlockTokens(B).setTier(Tier.TIER_GPU);
    for (int b = 0; b < blocks; b++) {
      s.addKeys(key(keyBase + fromBlock + b));
    }
    if (fromBlock > 0) {
      s.setParentKey(key(keyBase + fromBlock - 1));
    }
    for (int t = fromBlock * B; t < (fromBlock + blocks) * B; t++) {
      s.addTokenIds(tokens[t]);
    }
    return BlockEvent.newBuilder().setNamespace(NS).setPod(pod).setStored(s).build();
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    SplittableRandom rnd = new SplittableRandom(42);
    long[] prompt = new long[promptBlocks * B];
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = rnd.nextInt(128_000);
    }
    // the prompt: pods 0-2 whole, pods 3-9 a prefix of random length
    int[] held = new int[pods];
    long promptEntries = 0;
    for (int p = 0; p < pods; p++) {
      held[p] = p < 3 ? promptBlocks : p < 10 ? 1 + rnd.nextInt(promptBlocks) : 0;
      promptEntries += held[p];
    }
    long fillBlocks = Math.max(0, entries - promptEntries);
    long perPod = fillBlocks / pods / DOC_BLOCKS * DOC_BLOCKS;
    out.printf(
        Locale.ROOT,
        "# index: %d pods, %,d (block, pod) entries (%,d of the prompt), prompt %d blocks of %d"
            + " tokens; %s, %d CPUs%n",
        pods,
        promptEntries + perPod * pods,
        promptEntries,
        promptBlocks,
        B,
        System.getProperty("java.vm.name") + " " + Runtime.version(),
        Runtime.getRuntime().availableProcessors());
    // events, built before timing: documents of DOC_BLOCKS blocks, one event each
    List<List<BlockEvent>> perThread = List.of(new ArrayList<>(), new ArrayList<>());
    long blocksInEvents = 0;
    long keyBase = 1L << 40;
    for (int p = 0; p < pods; p++) {
      String pod = "pod-" + p;
      List<BlockEvent> list = perThread.get(p % 2);
      for (long d = 0; d < perPod / DOC_BLOCKS; d++) {
        long[] doc = new long[DOC_BLOCKS * B];
        for (int i = 0; i < doc.length; i++) {
          doc[i] = rnd.nextInt(128_000);
        }
        list.add(event(pod, doc, 0, DOC_BLOCKS, keyBase));
        keyBase += DOC_BLOCKS;
        blocksInEvents += DOC_BLOCKS;
      }
    }
    long capacity = (promptEntries + perPod * pods) * 11 / 10;
    double[] rates = new double[2];
    PrefixIndex index = null;
    for (int threads = 1; threads <= 2; threads++) {
      if (index != null) {
        index.close();
      }
      index = PrefixIndex.newBuilder().capacity(capacity).blockTokens(B).build();
      PrefixIndex idx = index;
      System.gc();
      long t0 = System.nanoTime();
      if (threads == 1) {
        for (List<BlockEvent> l : perThread) {
          l.forEach(idx::accept);
        }
      } else {
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
          List<Future<?>> fs = new ArrayList<>();
          for (List<BlockEvent> l : perThread) {
            fs.add(ex.submit(() -> l.forEach(idx::accept)));
          }
          for (Future<?> f : fs) {
            f.get();
          }
        } finally {
          ex.shutdown();
        }
      }
      rates[threads - 1] = blocksInEvents / ((System.nanoTime() - t0) / 1e9);
    }
    for (int p = 0; p < pods; p++) {
      if (held[p] > 0) {
        for (int from = 0; from < held[p]; from += 256) {
          index.accept(event("pod-" + p, prompt, from, Math.min(256, held[p] - from), 1L << 20));
        }
      }
    }
    out.printf(
        Locale.ROOT,
        "apply BlockStored (tokens, %d blocks/event): 1 thread %,.0f blocks/s, 2 threads %,.0f"
            + " blocks/s; goal >= 1,000,000 on 2 cores: %s%n",
        DOC_BLOCKS,
        rates[0],
        rates[1],
        Math.max(rates[0], rates[1]) >= 1e6 ? "met" : "NOT met");
    var stats = index.stats();
    double bytesPerEntry = (double) index.blockTableBytes() / stats.capacity();
    double bytesPerEntryHeld = (double) index.blockTableBytes() / stats.entries();
    double engineBytes = stats.offHeapBytes() - index.blockTableBytes();
    out.printf(
        Locale.ROOT,
        "memory: block table %,d bytes off-heap for %,d entries held (%.1f B/entry; %.1f B/entry"
            + " at capacity); goal <= 48: %s. Engine-key map %.1f B per engine block (%,d held)."
            + " Malformed %d, dropped %d, evicted %d%n",
        index.blockTableBytes(),
        stats.entries(),
        bytesPerEntryHeld,
        bytesPerEntry,
        bytesPerEntryHeld <= 48 ? "met" : "NOT met",
        engineBytes / Math.max(1, stats.engineEntries()),
        stats.engineEntries(),
        stats.eventsMalformed(),
        stats.eventsDropped(),
        stats.evictions());

    // the heap peer: canonical key -> pods (pod << 8 | tier) of the same entries
    long[] promptKeys = index.keysOfTokens(NS, prompt, prompt.length);
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    perThread.forEach(List::clear);
    System.gc();
    long heapBefore = mem.getHeapMemoryUsage().getUsed();
    HashMap<Long, long[]> heap = new HashMap<>();
    long heapEntries = 0;
    for (int p = 0; p < pods; p++) {
      for (int b = 0; b < held[p]; b++) {
        heap.merge(promptKeys[b], new long[] {(long) p << 8 | 1}, IndexBenchCommand::concat);
        heapEntries++;
      }
    }
    SplittableRandom fill = new SplittableRandom(7);
    for (long e = 0; e < perPod * pods; e++) {
      heap.put(fill.nextLong(), new long[] {(e % pods) << 8 | 1});
      heapEntries++;
    }
    System.gc();
    double heapPerEntry = (double) (mem.getHeapMemoryUsage().getUsed() - heapBefore) / heapEntries;
    out.printf(
        Locale.ROOT,
        "memory: on-heap HashMap index %.1f B/entry (used heap after GC)%n",
        heapPerEntry);

    Scoring scoring = new Scoring(index, Scorer.newBuilder().build(), n -> {});
    List<String> none = List.of();
    Map<String, Double> noLoad = Map.of();
    Histogram ours = new Histogram(3);
    Histogram match = new Histogram(3);
    Histogram peer = new Histogram(3);
    long sink = 0;
    for (int q = -queries / 3; q < queries; q++) {
      long t0 = System.nanoTime();
      List<Scorer.PodScore> s = scoring.forTokens(NS, prompt, none, noLoad);
      long t1 = System.nanoTime();
      List<PodMatch> m = index.match(NS, promptKeys, none);
      long t2 = System.nanoTime();
      int[] h = heapMatch(heap, promptKeys, pods);
      long t3 = System.nanoTime();
      sink += s.get(0).blocks() + m.size() + h[0];
      if (q >= 0) {
        ours.recordValue(t1 - t0);
        match.recordValue(t2 - t1);
        peer.recordValue(t3 - t2);
      }
      if (q == 0) {
        Map<String, Integer> a = new HashMap<>();
        for (PodMatch pm : m) {
          a.put(pm.pod(), pm.blocks());
        }
        for (int p = 0; p < pods; p++) {
          if (a.getOrDefault("pod-" + p, 0) != held[p] || h[p] != held[p]) {
            throw new IllegalStateException(
                "pod-"
                    + p
                    + ": index "
                    + a.get("pod-" + p)
                    + ", heap "
                    + h[p]
                    + ", held "
                    + held[p]);
          }
        }
      }
    }
    out.printf(
        Locale.ROOT,
        "score %d-token prompt (tokens -> keys -> match -> rank): p50 %.3f ms, p99 %.3f ms; goal"
            + " p99 < 1 ms: %s%n",
        prompt.length,
        ours.getValueAtPercentile(50) / 1e6,
        ours.getValueAtPercentile(99) / 1e6,
        ours.getValueAtPercentile(99) < 1_000_000 ? "met" : "NOT met");
    out.printf(
        Locale.ROOT,
        "match only (keys given): index p50 %.3f ms, p99 %.3f ms; on-heap HashMap p50 %.3f ms,"
            + " p99 %.3f ms; ratio p50 %.2fx (above 1: the index is faster)%n",
        match.getValueAtPercentile(50) / 1e6,
        match.getValueAtPercentile(99) / 1e6,
        peer.getValueAtPercentile(50) / 1e6,
        peer.getValueAtPercentile(99) / 1e6,
        (double) peer.getValueAtPercentile(50) / match.getValueAtPercentile(50));
    out.println("# (checksum " + sink + ")");
    index.close();
    return 0;
  }

  private static long[] concat(long[] a, long[] b) {
    long[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** The same leading-block match on the heap map. */
  private static int[] heapMatch(HashMap<Long, long[]> heap, long[] keys, int pods) {
    int[] run = new int[pods];
    int alive = pods;
    for (int i = 0; i < keys.length && alive > 0; i++) {
      long[] v = heap.get(keys[i]);
      int adv = 0;
      if (v != null) {
        for (long e : v) {
          int p = (int) (e >>> 8);
          if (run[p] == i) {
            run[p]++;
            adv++;
          }
        }
      }
      alive = adv;
    }
    return run;
  }
}
