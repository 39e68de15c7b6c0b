package io.kvhoard.perf.sim;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request trace in Mooncake's format (Qin et al., "Mooncake: Trading More Storage for Less
 * Computation", FAST'25): one JSON object per line, {@code {"timestamp", "input_length",
 * "output_length", "hash_ids": [...]}}, where {@code hash_ids[i]} names the whole prefix of blocks
 * 0 to i, so {@code hash_ids[i-1]} is block i's parent. Immutable. Public for the routing simulator
 * ({@code sim.route}).
 */
public final class Trace {
  private final String name;
  private final int blockTokens;
  private final long[] inputTokens;
  private final long[][] blocks;
  private final long[] timestampsMs;
  private final long totalBlocks;
  private final long totalTokens;

  private Trace(
      String name, int blockTokens, long[] inputTokens, long[][] blocks, long[] timestampsMs) {
    this.name = name;
    this.timestampsMs = timestampsMs;
    this.blockTokens = blockTokens;
    this.inputTokens = inputTokens;
    this.blocks = blocks;
    long b = 0;
    long t = 0;
    for (int r = 0; r < blocks.length; r++) {
      b += blocks[r].length;
      t += inputTokens[r];
    }
    this.totalBlocks = b;
    this.totalTokens = t;
  }

  /**
   * Builds a trace from its parts, checked like a file's lines.
   *
   * @throws IllegalArgumentException naming the request at fault
   */
  public static Trace of(String name, int blockTokens, long[] inputTokens, long[][] blocks) {
    return of(name, blockTokens, inputTokens, blocks, new long[blocks.length]);
  }

  /**
   * Builds a trace from its parts, with arrival timestamps in milliseconds, checked like a file's
   * lines.
   *
   * @throws IllegalArgumentException naming the request at fault
   */
  public static Trace of(
      String name, int blockTokens, long[] inputTokens, long[][] blocks, long[] timestampsMs) {
    if (inputTokens.length != blocks.length || timestampsMs.length != blocks.length) {
      throw new IllegalArgumentException("inputTokens, blocks and timestamps differ in length");
    }
    for (int r = 0; r < timestampsMs.length; r++) {
      if (timestampsMs[r] < 0) {
        throw new IllegalArgumentException("request " + r + ": negative timestamp");
      }
    }
    Map<Long, Long> parents = new HashMap<>();
    for (int r = 0; r < blocks.length; r++) {
      String problem = check(inputTokens[r], blocks[r], blockTokens, parents);
      if (problem != null) {
        throw new IllegalArgumentException("request " + r + ": " + problem);
      }
    }
    return new Trace(name, blockTokens, inputTokens.clone(), blocks.clone(), timestampsMs.clone());
  }

  /**
   * Reads a trace file.
   *
   * @throws TraceFormatException naming the file and line, if a line is not such an object, or the
   *     file holds no request
   * @throws NoSuchFileException if there is no such file
   */
  public static Trace read(Path file, int blockTokens) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    List<long[]> blocks = new ArrayList<>();
    List<Long> tokens = new ArrayList<>();
    List<Long> times = new ArrayList<>();
    Map<Long, Long> parents = new HashMap<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int lineNo = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode o;
        try {
          o = mapper.readTree(line);
        } catch (JacksonException e) {
          throw new TraceFormatException(
              file, lineNo, "not JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (!o.isObject()) {
          throw new TraceFormatException(file, lineNo, "not a JSON object");
        }
        JsonNode len = o.get("input_length");
        if (len == null || !len.canConvertToExactIntegral() || !len.canConvertToLong()) {
          throw new TraceFormatException(file, lineNo, "no integer \"input_length\"");
        }
        JsonNode ts = o.get("timestamp");
        long timestamp = 0;
        if (ts != null) {
          if (!ts.isNumber() || !ts.canConvertToLong() || ts.asDouble() < 0) {
            throw new TraceFormatException(
                file, lineNo, "\"timestamp\" is not a non-negative number of ms: " + ts);
          }
          timestamp = Math.round(ts.asDouble());
        }
        JsonNode ids = o.get("hash_ids");
        if (ids == null || !ids.isArray()) {
          throw new TraceFormatException(file, lineNo, "no \"hash_ids\" array");
        }
        long[] request = new long[ids.size()];
        for (int i = 0; i < request.length; i++) {
          JsonNode id = ids.get(i);
          if (!id.canConvertToExactIntegral() || !id.canConvertToLong()) {
            throw new TraceFormatException(
                file, lineNo, "hash_ids[" + i + "] is not an integer: " + id);
          }
          request[i] = id.asLong();
        }
        String problem = check(len.asLong(), request, blockTokens, parents);
        if (problem != null) {
          throw new TraceFormatException(file, lineNo, problem);
        }
        blocks.add(request);
        tokens.add(len.asLong());
        times.add(timestamp);
      }
    }
    if (blocks.isEmpty()) {
      throw new TraceFormatException(file, 0, "no requests in the file");
    }
    return new Trace(
        String.valueOf(file.getFileName()),
        blockTokens,
        tokens.stream().mapToLong(Long::longValue).toArray(),
        blocks.toArray(new long[0][]),
        times.stream().mapToLong(Long::longValue).toArray());
  }

  private static String check(
      long inputTokens, long[] ids, int blockTokens, Map<Long, Long> parents) {
    if (inputTokens <= 0) {
      return "input_length " + inputTokens + " is not positive";
    }
    long expected = (inputTokens + blockTokens - 1) / blockTokens;
    if (ids.length != expected) {
      return ids.length
          + " hash_ids for input_length "
          + inputTokens
          + ", expected "
          + expected
          + " blocks of "
          + blockTokens
          + " tokens (is --block-tokens right?)";
    }
    // A first block is recorded as its own parent: no block can be that.
    long parent = 0;
    for (int i = 0; i < ids.length; i++) {
      long id = ids[i];
      long expectedParent = i == 0 ? id : parent;
      Long known = parents.putIfAbsent(id, expectedParent);
      if (known != null && known != expectedParent) {
        return "block "
            + id
            + (i == 0 ? " starts the prompt" : " follows " + parent)
            + " here but "
            + (known == id ? "starts a prompt" : "follows " + known)
            + " earlier in the trace";
      }
      parent = id;
    }
    return null;
  }

  public String name() {
    return name;
  }

  public int blockTokens() {
    return blockTokens;
  }

  public int requests() {
    return blocks.length;
  }

  /** The request's block ids, first to last; do not modify. */
  public long[] blocks(int request) {
    return blocks[request];
  }

  public long inputTokens(int request) {
    return inputTokens[request];
  }

  /** The request's arrival time in the trace, in milliseconds (0 if the line had none). */
  public long timestampMs(int request) {
    return timestampsMs[request];
  }

  public long totalBlocks() {
    return totalBlocks;
  }

  public long totalTokens() {
    return totalTokens;
  }

  /** Distinct block ids in the whole trace. */
  int distinctBlocks() {
    Set<Long> seen = new HashSet<>();
    for (long[] request : blocks) {
      for (long id : request) {
        seen.add(id);
      }
    }
    return seen.size();
  }
}
