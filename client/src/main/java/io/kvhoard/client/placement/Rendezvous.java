package io.kvhoard.client.placement;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.key.BlockKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Places block keys on servers by rendezvous (highest random weight) hashing.
 *
 * <p>Design. Thaler and Ravishankar, "Using name-based mappings to increase hit rates" (IEEE/ACM
 * ToN 1998): each (server, key) pair gets a pseudo-random weight and a key goes to the server with
 * the highest; with {@code r} replicas, to the {@code r} highest. Removing a server moves only the
 * keys it held (each to its next-highest server), adding one takes from every other server only the
 * keys it now wins, about {@code 1/n} of them, and no ring or virtual nodes are needed. The weight
 * is a 64-bit mix (the SplitMix64 / Murmur3 finaliser) of the server's FNV-1a hash and the key's
 * last 8 bytes, which for a SHA-256 key are already uniform. Every client computes the same
 * placement from the same server names, without talking to each other.
 *
 * <p>Stateless and thread-safe; {@code O(servers)} per key.
 */
public final class Rendezvous {
  private Rendezvous() {}

  /** The server that owns {@code key}, or null if {@code servers} is empty. */
  public static ServerAddress owner(BlockKey key, List<ServerAddress> servers) {
    ServerAddress best = null;
    long bestWeight = 0;
    long k = mix(key.eventHash());
    for (ServerAddress s : servers) {
      long w = weight(serverHash(s), k);
      if (best == null || Long.compareUnsigned(w, bestWeight) > 0) {
        best = s;
        bestWeight = w;
      }
    }
    return best;
  }

  /**
   * The {@code replicas} servers with the highest weight for {@code key}, highest first (fewer if
   * there are fewer servers).
   */
  public static List<ServerAddress> rank(BlockKey key, List<ServerAddress> servers, int replicas) {
    Objects.requireNonNull(key, "key");
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + replicas);
    }
    long k = mix(key.eventHash());
    int size = servers.size();
    long[] weights = new long[size];
    for (int i = 0; i < size; i++) {
      weights[i] = weight(serverHash(servers.get(i)), k);
    }
    int n = Math.min(replicas, size);
    List<ServerAddress> out = new ArrayList<>(n);
    boolean[] taken = new boolean[size];
    for (int r = 0; r < n; r++) {
      int best = -1;
      for (int i = 0; i < size; i++) {
        if (!taken[i] && (best < 0 || Long.compareUnsigned(weights[i], weights[best]) > 0)) {
          best = i;
        }
      }
      taken[best] = true;
      out.add(servers.get(best));
    }
    return out;
  }

  /** FNV-1a (64-bit) of the server's {@code host:port}. */
  static long serverHash(ServerAddress server) {
    long h = 0xcbf29ce484222325L;
    for (byte b : server.toString().getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001b3L;
    }
    return h;
  }

  static long weight(long serverHash, long mixedKey) {
    return mix(serverHash ^ mixedKey);
  }

  /** The SplitMix64 finaliser: every input bit flips about half the output bits. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
