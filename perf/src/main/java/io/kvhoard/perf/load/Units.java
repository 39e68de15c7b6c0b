package io.kvhoard.perf.load;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints the sizes and durations of the command line: {@code 256k}, {@code 3s}. */
final class Units {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]?)(?:i?b)?");
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m)");

  private Units() {}

  /**
   * Parses a byte count: digits with an optional binary suffix, {@code k} (KiB), {@code m} (MiB),
   * {@code g} (GiB), any case, optionally followed by {@code b} or {@code ib}: {@code 256k}, {@code
   * 2MiB}, {@code 1048576}.
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  static long parseBytes(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size: give bytes with an optional k, m or g (KiB, MiB, GiB)");
    }
    int shift =
        switch (m.group(2)) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          default -> 0;
        };
    long value;
    try {
      value = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    if (value > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return value << shift;
  }

  /**
   * Parses a duration: a number and {@code ms}, {@code s} or {@code m}: {@code 3s}, {@code 500ms},
   * {@code 1.5s}.
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration: give a number and ms, s or m, e.g. 3s or 500ms");
    }
    double value = Double.parseDouble(m.group(1));
    double nanos =
        value
            * switch (m.group(2)) {
              case "ms" -> 1e6;
              case "s" -> 1e9;
              default -> 60e9;
            };
    return Duration.ofNanos(Math.round(nanos));
  }

  /** {@code 262144} as {@code 256 KiB}, {@code 2097152} as {@code 2 MiB}; others in bytes. */
  static String formatBytes(long bytes) {
    if (bytes >= 1 << 30 && bytes % (1 << 30) == 0) {
      return (bytes >> 30) + " GiB";
    } else if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
      return (bytes >> 20) + " MiB";
    } else if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " B";
  }
}
