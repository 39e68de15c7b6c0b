package io.kvhoard.perf.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test helper: writes a {@link Trace} in the Mooncake JSONL format the simulators read. */
public final class TraceFiles {
  private TraceFiles() {}

  /** Writes {@code t} to {@code file}, one request per line; returns {@code file}. */
  public static Path write(Trace t, Path file) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int r = 0; r < t.requests(); r++) {
      StringBuilder ids = new StringBuilder();
      for (long id : t.blocks(r)) {
        ids.append(ids.length() == 0 ? "" : ", ").append(id);
      }
      lines.add(
          "{\"timestamp\": "
              + t.timestampMs(r)
              + ", \"input_length\": "
              + t.inputTokens(r)
              + ", \"output_length\": 1, \"hash_ids\": ["
              + ids
              + "]}");
    }
    return Files.write(file, lines, StandardCharsets.UTF_8);
  }
}
