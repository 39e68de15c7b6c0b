package io.kvhoard.perf.sim;

import java.io.IOException;
import java.nio.file.Path;

/** A trace file that is not what {@link Trace} reads; the message names the file and line. */
public final class TraceFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int line;

  TraceFormatException(Path file, int line, String problem) {
    super(file + (line > 0 ? " line " + line : "") + ": " + problem);
    this.line = line;
  }

  /** The 1-based line at fault, or 0 for the file as a whole. */
  int line() {
    return line;
  }
}
