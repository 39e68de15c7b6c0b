package io.kvhoard.protocol.key;

import java.util.Locale;

/** Element type of the KV tensors; its width in bytes decides the block size. */
public enum DType {
  FLOAT16(2, "fp16", "float16", "half"),
  BFLOAT16(2, "bf16", "bfloat16"),
  FLOAT32(4, "fp32", "float32", "float"),
  FP8_E4M3(1, "fp8", "fp8_e4m3", "float8_e4m3fn"),
  FP8_E5M2(1, "fp8_e5m2", "float8_e5m2"),
  INT8(1, "int8");

  private final int bytes;
  private final String[] names;

  DType(int bytes, String... names) {
    this.bytes = bytes;
    this.names = names;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /**
   * Parses a dtype as engines spell it ({@code bf16}, {@code bfloat16}, {@code float16}, {@code
   * fp8_e4m3}, ...), case-insensitively.
   *
   * @throws IllegalArgumentException naming the accepted spellings
   */
  public static DType parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    for (DType d : values()) {
      if (d.name().toLowerCase(Locale.ROOT).equals(t)) {
        return d;
      }
      for (String n : d.names) {
        if (n.equals(t)) {
          return d;
        }
      }
    }
    throw new IllegalArgumentException(
        "unknown dtype '" + text + "': use one of fp16, bf16, fp32, fp8_e4m3, fp8_e5m2, int8");
  }
}
