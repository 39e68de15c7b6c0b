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

  @Override
  public String toString() {
    return namespace.toHex() + "/" + key.toHex();
  }
}
