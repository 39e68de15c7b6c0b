package io.kvhoard.protocol.frame;

import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A minimal property-test runner: runs a check on many seeded random cases and, when one fails,
 * reports the case's seed so it can be replayed alone. Deterministic by default (the base seed is
 * fixed, so every build runs the same cases); {@code -Dkvhoard.fuzz.seed=N} explores other cases
 * and {@code -Dkvhoard.fuzz.case=SEED} replays one.
 *
 * <p>Written in place of jqwik: see the commit that introduced it. A check is a plain {@code
 * Consumer<SplittableRandom>}, so it ports to any property-testing library.
 */
final class Fuzz {
  private static final long DEFAULT_BASE_SEED = 0x6B76686F61726431L; // "kvhoard1"

  private Fuzz() {}

  /** Runs {@code check} on {@code tries} cases derived from the base seed and {@code property}. */
  static void forAll(String property, int tries, Consumer<SplittableRandom> check) {
    String replay = System.getProperty("kvhoard.fuzz.case");
    if (replay != null) {
      long seed = Long.parseUnsignedLong(replay, 16);
      runCase(property, -1, seed, check);
      return;
    }
    long base = Long.getLong("kvhoard.fuzz.seed", DEFAULT_BASE_SEED) ^ property.hashCode();
    SplittableRandom seeds = new SplittableRandom(base);
    for (int i = 0; i < tries; i++) {
      runCase(property, i, seeds.nextLong(), check);
    }
  }

  private static void runCase(
      String property, int index, long seed, Consumer<SplittableRandom> check) {
    try {
      check.accept(new SplittableRandom(seed));
    } catch (RuntimeException | AssertionError e) {
      throw new AssertionError(
          property
              + " falsified at case "
              + index
              + "; replay it with -Dkvhoard.fuzz.case="
              + Long.toHexString(seed)
              + " -Dtest="
              + callerTest()
              + ": "
              + e,
          e);
    }
  }

  private static String callerTest() {
    for (StackTraceElement frame : new Throwable().getStackTrace()) {
      if (frame.getClassName().endsWith("Test")) {
        return frame.getClassName().substring(frame.getClassName().lastIndexOf('.') + 1)
            + "#"
            + frame.getMethodName();
      }
    }
    return "?";
  }

  /** At most the first 256 bytes of {@code bytes} in hex, for failure messages. */
  static String hex(byte[] bytes) {
    int n = Math.min(bytes.length, 256);
    return HexFormat.of().formatHex(bytes, 0, n) + (n < bytes.length ? "..." : "");
  }
}
