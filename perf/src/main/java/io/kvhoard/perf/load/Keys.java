package io.kvhoard.perf.load;

/** How the text protocols spell a key id: {@code kvh:} and 16 hex digits (20 ASCII bytes). */
final class Keys {
  private Keys() {}

  /** The text key of {@code id}, e.g. {@code kvh:000000000000002a}. */
  static String text(long id) {
    String hex = Long.toHexString(id);
    return "kvh:" + "0".repeat(16 - hex.length()) + hex;
  }
}
