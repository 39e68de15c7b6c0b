package io.kvhoard.protocol.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the project's read-only reference data ({@code ../shared/data/} beside the checkout), by
 * walking up from the working directory, or from {@code -Dkvhoard.shared.data=DIR}. A missing file
 * fails the test with a message, never skips it. Shared with other modules' tests through
 * protocol's test jar.
 */
public final class SharedData {
  private SharedData() {}

  /** The file at {@code relative} under {@code shared/data/}; fails the test if it is missing. */
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
    throw new AssertionError(
        "reference data not found: no shared/data/ in any parent of "
            + Paths.get("").toAbsolutePath()
            + "; check out the project beside shared/ or pass -Dkvhoard.shared.data=DIR");
  }

  private static Path require(Path p) {
    if (!Files.isRegularFile(p)) {
      throw new AssertionError("reference data file missing: " + p);
    }
    return p;
  }
}
