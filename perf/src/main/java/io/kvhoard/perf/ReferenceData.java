package io.kvhoard.perf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the project's read-only reference data ({@code shared/data/} beside the checkout: traces,
 * vLLM vectors) for benchmarks that default to it: {@code -Dkvhoard.shared.data=DIR} if set, else
 * the first {@code shared/data} found walking up from the working directory.
 */
public final class ReferenceData {
  private ReferenceData() {}

  /**
   * The file at {@code relative} under {@code shared/data/}.
   *
   * @throws IllegalStateException saying where it looked, if the file is missing
   */
  public static Path path(String relative) {
    String override = System.getProperty("kvhoard.shared.data");
    if (override != null) {
      return require(Paths.get(override).resolve(relative));
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared").resolve("data");
      if (Files.isDirectory(candidate)) {
        return require(candidate.resolve(relative));
      }
    }
    throw new IllegalStateException(
        "reference data not found: no shared/data/ in any parent of "
            + Paths.get("").toAbsolutePath()
            + "; run from the checkout beside shared/ or pass -Dkvhoard.shared.data=DIR");
  }

  private static Path require(Path p) {
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("reference data file missing: " + p);
    }
    return p;
  }
}
