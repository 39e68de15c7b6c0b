package io.kvhoard.server.index;

import com.google.protobuf.ByteString;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.BlockRemoved;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.Cleared;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.Tier;
import java.nio.ByteBuffer;

/** Builds block events for tests, as the vLLM source and kvhoard publishers send them. */
final class Events {
  static final Namespace NS = Namespace.newBuilder().setModelId("llama").build();

  private Events() {}

  static BlockKey key(long engineKey) {
    return BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, engineKey)))
        .build();
  }

  /** A vLLM-style BlockStored: engine keys, optional parent (-1 for none), tokens. */
  static BlockEvent stored(
      Namespace ns, String pod, long[] keys, long parent, long[] tokens, int blockTokens, Tier t) {
    BlockStored.Builder s = BlockStored.newBuilder().setBlockTokens(blockTokens).setTier(t);
    for (long k : keys) {
      s.addKeys(key(k));
    }
    if (parent != -1) {
      s.setParentKey(key(parent));
    }
    for (long tok : tokens) {
      s.addTokenIds(tok);
    }
    return BlockEvent.newBuilder().setNamespace(ns).setPod(pod).setStored(s).build();
  }

  /** A key-only BlockStored. */
  static BlockEvent storedKeys(Namespace ns, String pod, Tier t, long... keys) {
    return stored(ns, pod, keys, -1, new long[0], 0, t);
  }

  static BlockEvent removed(Namespace ns, String pod, Tier t, long... keys) {
    BlockRemoved.Builder r = BlockRemoved.newBuilder().setTier(t);
    for (long k : keys) {
      r.addKeys(key(k));
    }
    return BlockEvent.newBuilder().setNamespace(ns).setPod(pod).setRemoved(r).build();
  }

  static BlockEvent cleared(Namespace ns, String pod) {
    BlockEvent.Builder b = BlockEvent.newBuilder().setPod(pod).setCleared(Cleared.newBuilder());
    if (ns != null) {
      b.setNamespace(ns);
    }
    return b.build();
  }

  static long[] tokens(int from, int count) {
    long[] t = new long[count];
    for (int i = 0; i < count; i++) {
      t[i] = from + i;
    }
    return t;
  }
}
