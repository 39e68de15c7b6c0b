package io.kvhoard.perf.load;

import java.util.Locale;

/** What one measurement does on every connection: store fresh blocks, or read stored ones. */
enum Op {
  /** Store a block under a key never used before (KV blocks are immutable, keys fresh). */
  PUT,
  /** Read a block stored before the measurement, from a working set cycled in order. */
  GET;

  /** The name on the command line and in the JSON output: {@code put}, {@code get}. */
  String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The op named {@code id}.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  static Op byId(String id) {
    for (Op op : values()) {
      if (op.id().equals(id)) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown op '" + id + "': give get or put");
  }
}
