package io.kvhoard.perf.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Reads what the benchmark needs from Linux's {@code /proc}: a process's CPU time (user + system,
 * all threads) and the process that listens on a TCP port (for a server the benchmark did not
 * start). Rooted at a directory so that tests can give it a fake tree.
 *
 * <p>Immutable and thread-safe.
 */
final class ProcFs {
  /**
   * Clock ticks per second of {@code /proc/PID/stat}'s times: the kernel's {@code USER_HZ}, fixed
   * at 100 in its user ABI on x86-64 and arm64 (what {@code getconf CLK_TCK} prints).
   */
  static final int USER_HZ = 100;

  private static final String LISTEN = "0A";

  private final Path root;

  ProcFs(Path root) {
    this.root = root;
  }

  /** The machine's {@code /proc}. */
  static ProcFs system() {
    return new ProcFs(Path.of("/proc"));
  }

  /**
   * User + system CPU seconds that process {@code pid} (all its threads) has used, or empty if it
   * cannot be read (no such process, not Linux).
   */
  OptionalDouble cpuSeconds(long pid) {
    String stat;
    try {
      stat = Files.readString(root.resolve(Long.toString(pid)).resolve("stat"));
    } catch (IOException e) {
      return OptionalDouble.empty();
    }
    long ticks = cpuTicks(stat);
    return ticks < 0 ? OptionalDouble.empty() : OptionalDouble.of((double) ticks / USER_HZ);
  }

  /**
   * CPU seconds that the JIT compiler threads of JVM process {@code pid} have used (threads named
   * {@code C1 CompilerThre...} and {@code C2 CompilerThre...} in {@code /proc/PID/task/TID/stat}),
   * or empty if they cannot be read. A JVM whose compilers stop using CPU under a steady load has
   * compiled its hot code.
   */
  OptionalDouble compilerCpuSeconds(long pid) {
    long ticks = 0;
    boolean found = false;
    Path tasks = root.resolve(Long.toString(pid)).resolve("task");
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
      for (Path task : dir) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended meanwhile
        }
        int open = stat.indexOf('(');
        if (open < 0
            || !stat.startsWith("C", open + 1)
            || !stat.startsWith(" Compiler", open + 3)) {
          continue;
        }
        long t = cpuTicks(stat);
        if (t >= 0) {
          ticks += t;
          found = true;
        }
      }
    } catch (IOException e) {
      return OptionalDouble.empty();
    }
    return found ? OptionalDouble.of((double) ticks / USER_HZ) : OptionalDouble.empty();
  }

  /**
   * utime + stime (fields 14 and 15) of a {@code /proc/PID/stat} line, or -1 if it is malformed.
   * The command name (field 2) may hold spaces and parentheses, so fields are counted after its
   * last ')'.
   */
  static long cpuTicks(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return -1;
    }
    String[] f = stat.substring(close + 1).trim().split("\\s+");
    // f[0] is field 3 (state): utime is field 14 -> f[11], stime field 15 -> f[12].
    if (f.length < 13) {
      return -1;
    }
    try {
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * The process listening on TCP {@code port} (any local address, IPv4 or IPv6), or empty if none
   * is found or its file descriptors cannot be read.
   */
  OptionalLong pidListeningOn(int port) {
    long inode = -1;
    for (String table : List.of("net/tcp", "net/tcp6")) {
      try {
        inode =
            listeningInode(
                Files.readAllLines(root.resolve(table), StandardCharsets.US_ASCII), port);
      } catch (IOException e) {
        continue;
      }
      if (inode >= 0) {
        break;
      }
    }
    if (inode < 0) {
      return OptionalLong.empty();
    }
    String socket = "socket:[" + inode + "]";
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(root, "[0-9]*")) {
      for (Path proc : procs) {
        if (holds(proc.resolve("fd"), socket)) {
          return OptionalLong.of(Long.parseLong(proc.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /**
   * The inode of the socket in state LISTEN on {@code port} in a {@code /proc/net/tcp} table, or
   * -1. Rows: {@code sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...},
   * addresses as {@code HEXADDR:HEXPORT}.
   */
  static long listeningInode(List<String> table, int port) {
    String portHex = String.format(Locale.ROOT, ":%04X", port);
    for (String row : table) {
      String[] f = row.trim().split("\\s+");
      if (f.length > 9 && f[1].endsWith(portHex) && f[3].equals(LISTEN)) {
        try {
          return Long.parseLong(f[9]);
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }

  private static boolean holds(Path fdDir, String socket) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(socket)) {
            return true;
          }
        } catch (IOException | UnsupportedOperationException e) {
          // the descriptor closed meanwhile, or is not a link: not ours
        }
      }
    } catch (IOException e) {
      // a process that ended, or one we may not look into
    }
    return false;
  }
}
