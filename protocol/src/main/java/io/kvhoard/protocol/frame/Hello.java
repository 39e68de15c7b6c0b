package io.kvhoard.protocol.frame;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * The body of a HELLO frame: the sender's supported version range and what it accepts. The request
 * carries the client's; the response carries the server's and, in its header, the chosen version.
 *
 * <p>Immutable and thread-safe. Validated on construction.
 *
 * @param minVersion lowest supported version, at least 1
 * @param maxVersion highest supported version, at least {@code minVersion}, at most 255
 * @param limits what the sender accepts: the peer must not send longer frames or more blocks
 */
public record Hello(int minVersion, int maxVersion, FrameLimits limits) {

  /**
   * Validates the version range.
   *
   * @throws IllegalArgumentException if the range is empty or outside [1, 255]
   */
  public Hello {
    String problem = versionRangeProblem(minVersion, maxVersion);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    Objects.requireNonNull(limits, "limits");
  }

  /** This codec's version range with {@code limits}. */
  public static Hello of(FrameLimits limits) {
    return new Hello(FrameCodec.MIN_VERSION, FrameCodec.MAX_VERSION, limits);
  }

  /**
   * The version two peers use: the highest one in both ranges, or empty if the ranges do not meet
   * (the server then answers {@link FrameStatus#UNSUPPORTED_VERSION}).
   */
  public OptionalInt negotiate(Hello peer) {
    int high = Math.min(maxVersion, peer.maxVersion);
    int low = Math.max(minVersion, peer.minVersion);
    return high >= low ? OptionalInt.of(high) : OptionalInt.empty();
  }

  /** Why [min, max] is not a valid version range, or {@code null} if it is. */
  static String versionRangeProblem(int min, int max) {
    if (min < 1 || max > 255 || min > max) {
      return "HELLO version range must satisfy 1 <= min <= max <= 255, got " + min + ".." + max;
    }
    return null;
  }
}
