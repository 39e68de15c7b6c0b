package io.kvhoard.perf.load;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds the peers' server binaries on the {@code PATH} and installs the missing ones with {@code
 * perf/scripts/install-peers.sh} (Debian's {@code memcached} and {@code redis-server} through
 * apt-get; the script stops the services apt starts). The script travels inside the jar, so the
 * benchmark installs what it needs from any directory.
 *
 * <p>Immutable and thread-safe, but {@link #ensureInstalled} runs apt-get: call it from one place.
 */
final class Peers {
  /** The install script, as a class-path resource beside this class (copied from perf/scripts/). */
  static final String SCRIPT = "install-peers.sh";

  private static final long INSTALL_TIMEOUT_MINUTES = 10;

  private final String path;

  /**
   * @param path the {@code PATH} to search, directories separated by ':'
   */
  Peers(String path) {
    this.path = path == null ? "" : path;
  }

  /** The executable {@code binary} on the {@code PATH}, if there is one. */
  Optional<Path> which(String binary) {
    for (String dir : path.split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, binary);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Makes sure every one of {@code binaries} is on the {@code PATH}, running the install script (as
   * this user: it needs root or sudo, and apt) if any is missing.
   *
   * @throws IOException with the script's output if it fails or the binaries are still missing
   */
  void ensureInstalled(List<String> binaries, Path workDir) throws IOException {
    List<String> missing = missing(binaries);
    if (missing.isEmpty()) {
      return;
    }
    Path script = workDir.resolve(SCRIPT);
    try (InputStream in = Peers.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IOException(SCRIPT + " is missing from the class path; rebuild kvhoard-perf");
      }
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Path log = workDir.resolve("install-peers.log");
    Process p =
        new ProcessBuilder("bash", script.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    int status;
    try {
      if (!p.waitFor(INSTALL_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(
            SCRIPT + " did not finish within " + INSTALL_TIMEOUT_MINUTES + " minutes");
      }
      status = p.exitValue();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while installing " + missing, e);
    }
    List<String> still = missing(binaries);
    if (status != 0 || !still.isEmpty()) {
      throw new IOException(
          "could not install "
              + missing
              + " ("
              + SCRIPT
              + " exited with status "
              + status
              + "; install them by hand, e.g. apt-get install -y memcached redis-server): "
              + Files.readString(log, StandardCharsets.UTF_8).strip());
    }
  }

  private List<String> missing(List<String> binaries) {
    List<String> missing = new ArrayList<>();
    for (String b : binaries) {
      if (which(b).isEmpty()) {
        missing.add(b);
      }
    }
    return missing;
  }
}
