package io.kvhoard.server.store;

/** Receives the committed blocks of a tier, one call each, from {@link Tier#forEachBlock}. */
@FunctionalInterface
public interface BlockVisitor {
  /**
   * One committed block.
   *
   * @param length its length in bytes
   * @param crc32c the CRC32C recorded at its commit
   */
  void visit(StoreKey key, long length, int crc32c);
}
