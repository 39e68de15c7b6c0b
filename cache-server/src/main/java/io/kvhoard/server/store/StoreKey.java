package io.kvhoard.server.store;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import java.util.Objects;

/**
 * The name of a stored block: its namespace (model, layout, tenant, ...) and its chained prefix
 * key. Blocks of different namespaces never collide, whatever their prefix keys.
 *
 * @param namespace the namespace id carried by every request
 * @param key the 32-byte prefix key
 */
public record StoreKey(NamespaceId namespace, BlockKey key) {
  public StoreKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
  }

  /** Bytes of the binary form: namespace id, then block key. */
  public static final int BYTES = NamespaceId.BYTES + BlockKey.BYTES;

  /** The binary form ({@link #BYTES} bytes), the key of the disk tier's and directory's maps. */
  public byte[] toBytes() {
    byte[] out = new byte[BYTES];
    namespace.writeTo(out, 0);
    key.writeTo(out, NamespaceId.BYTES);
    return out;
  }

  /** The key of a binary form, or {@code null} if {@code bytes} is not {@link #BYTES} long. */
  public static StoreKey fromBytes(byte[] bytes) {
    if (bytes == null || bytes.length != BYTES) {
      return null;
    }
    return new StoreKey(NamespaceId.of(bytes, 0), BlockKey.of(bytes, NamespaceId.BYTES));
  }

  @Override
  public String toString() {
    return namespace.toHex() + "/" + key.toHex();
  }
}
