package io.kvhoard.server.transport.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.protocol.v1.CacheServiceGrpc;
import io.kvhoard.protocol.v1.DeleteRequest;
import io.kvhoard.protocol.v1.DeleteResponse;
import io.kvhoard.protocol.v1.GetChunk;
import io.kvhoard.protocol.v1.GetRequest;
import io.kvhoard.protocol.v1.LookupRequest;
import io.kvhoard.protocol.v1.LookupResponse;
import io.kvhoard.protocol.v1.PinRequest;
import io.kvhoard.protocol.v1.PinResponse;
import io.kvhoard.protocol.v1.PutChunk;
import io.kvhoard.protocol.v1.PutResponse;
import io.kvhoard.protocol.v1.StatsRequest;
import io.kvhoard.protocol.v1.StatsResponse;
import io.kvhoard.server.store.Pin;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.DirectoryEntry;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;

/**
 * {@code kvhoard.v1.CacheService} over a {@link TieredStore}: lookup, stats, pin, delete and the
 * chunked put and get for clients without a data-plane client.
 *
 * <p>Every request is checked in full before the store is touched (a bad key anywhere in a batch
 * changes nothing); every failure reaches the client as a {@link io.grpc.Status} ({@link
 * Statuses}). Semantics the protos leave open:
 *
 * <ul>
 *   <li><b>Lookup</b> walks the keys in order and stops at the first the store does not hold; each
 *       cached block's tier is the hottest that holds it.
 *   <li><b>Pin</b> raises a block's pin to the mode asked and never lowers it (a soft pin on a
 *       hard-pinned block changes nothing); <b>Unpin</b> clears any pin and ignores the mode. The
 *       store keeps one pin per block, not a count: one unpin undoes any number of pins. {@code
 *       affected} counts the blocks held whose pin changed.
 *   <li><b>Delete</b> counts the blocks the store held. A tier that fails to free a block's space
 *       is logged, not reported: the block is out of the directory and never served again.
 *   <li><b>Put</b> and <b>Get</b>: see {@link PutCall} and {@link GetCall}; a Get of a block the
 *       store does not hold is {@code NOT_FOUND}.
 * </ul>
 *
 * <p>Thread-safe: it keeps no state of its own beyond its configuration; each streaming call has
 * its own object.
 */
final class CacheGrpcService extends CacheServiceGrpc.CacheServiceImplBase {
  private static final System.Logger LOG = System.getLogger(CacheGrpcService.class.getName());

  private final TieredStore store;
  private final String pod;
  private final String version;
  private final int getChunkBytes;
  private final long maxBlockBytes;

  /**
   * @param pod the name Stats reports for this server
   * @param version the version Stats reports
   * @param getChunkBytes the bytes of each chunk a Get streams (at most the last is shorter)
   * @param maxBlockBytes the largest block a Put may declare: its whole length is reserved at the
   *     first chunk, so this bounds what one call can hold
   */
  CacheGrpcService(
      TieredStore store, String pod, String version, int getChunkBytes, long maxBlockBytes) {
    this.store = Objects.requireNonNull(store, "store");
    this.pod = Objects.requireNonNull(pod, "pod");
    this.version = Objects.requireNonNull(version, "version");
    if (getChunkBytes < 1) {
      throw new IllegalArgumentException("getChunkBytes must be positive, got " + getChunkBytes);
    }
    if (maxBlockBytes < 1) {
      throw new IllegalArgumentException("maxBlockBytes must be positive, got " + maxBlockBytes);
    }
    this.getChunkBytes = getChunkBytes;
    this.maxBlockBytes = maxBlockBytes;
  }

  @Override
  public void lookup(LookupRequest request, StreamObserver<LookupResponse> responses) {
    try {
      NamespaceId ns = Wire.namespaceId(request.hasNamespace(), request.getNamespace());
      LookupResponse.Builder out = LookupResponse.newBuilder();
      for (StoreKey k : Wire.storeKeys(ns, request.getKeysList())) {
        DirectoryEntry e = store.entry(k);
        if (e == null) {
          break;
        }
        out.addTiers(Wire.hottest(e));
      }
      reply(responses, out.setCachedBlocks(out.getTiersCount()).build());
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "lookup").asRuntimeException());
    }
  }

  @Override
  public void stats(StatsRequest request, StreamObserver<StatsResponse> responses) {
    try {
      reply(responses, Wire.stats(store.stats(), pod, version));
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "stats").asRuntimeException());
    }
  }

  @Override
  public void pin(PinRequest request, StreamObserver<PinResponse> responses) {
    try {
      Pin pin =
          switch (request.getMode()) {
            case PIN_MODE_SOFT -> Pin.SOFT;
            case PIN_MODE_HARD -> Pin.HARD;
            case PIN_MODE_UNSPECIFIED, UNRECOGNIZED ->
                throw Statuses.invalid(
                    "mode is "
                        + request.getMode()
                        + ": pin with PIN_MODE_SOFT (evicted last) or PIN_MODE_HARD (never"
                        + " evicted)");
          };
      int affected = 0;
      for (StoreKey k : keys(request)) {
        DirectoryEntry e = store.entry(k);
        if (e != null && e.pin().compareTo(pin) < 0 && store.pin(k, pin)) {
          affected++;
        }
      }
      reply(responses, PinResponse.newBuilder().setAffected(affected).build());
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "pin").asRuntimeException());
    }
  }

  @Override
  public void unpin(PinRequest request, StreamObserver<PinResponse> responses) {
    try {
      int affected = 0;
      for (StoreKey k : keys(request)) {
        DirectoryEntry e = store.entry(k);
        if (e != null && e.pin() != Pin.NONE && store.pin(k, Pin.NONE)) {
          affected++;
        }
      }
      reply(responses, PinResponse.newBuilder().setAffected(affected).build());
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "unpin").asRuntimeException());
    }
  }

  private static List<StoreKey> keys(PinRequest request) {
    NamespaceId ns = Wire.namespaceId(request.hasNamespace(), request.getNamespace());
    return Wire.storeKeys(ns, request.getKeysList());
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    try {
      NamespaceId ns = Wire.namespaceId(request.hasNamespace(), request.getNamespace());
      int deleted = 0;
      for (StoreKey k : Wire.storeKeys(ns, request.getKeysList())) {
        try {
          if (store.remove(k)) {
            deleted++;
          }
        } catch (StoreException e) {
          deleted++; // out of the directory all the same: never served again
          LOG.log(Level.WARNING, "delete of " + k + ": a tier failed to free it: " + e, e);
        }
      }
      reply(responses, DeleteResponse.newBuilder().setDeleted(deleted).build());
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "delete").asRuntimeException());
    }
  }

  @Override
  public StreamObserver<PutChunk> put(StreamObserver<PutResponse> responses) {
    ServerCallStreamObserver<PutResponse> out = (ServerCallStreamObserver<PutResponse>) responses;
    out.disableAutoRequest();
    PutCall call = new PutCall(store, out, maxBlockBytes);
    out.request(1);
    return call;
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetChunk> responses) {
    ServerCallStreamObserver<GetChunk> out = (ServerCallStreamObserver<GetChunk>) responses;
    StoreKey key;
    try {
      NamespaceId ns = Wire.namespaceId(request.hasNamespace(), request.getNamespace());
      if (!request.hasKey()) {
        throw Statuses.invalid("key is missing: set the block's 32-byte prefix key");
      }
      key = new StoreKey(ns, Wire.blockKey(request.getKey(), "key"));
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "get").asRuntimeException());
      return;
    }
    GetCall call = new GetCall(store, out, request, key, getChunkBytes);
    try {
      call.start();
    } catch (RuntimeException e) {
      responses.onError(Statuses.of(e, "get of " + key).asRuntimeException());
    }
  }

  private static <T> void reply(StreamObserver<T> responses, T response) {
    responses.onNext(response);
    responses.onCompleted();
  }
}
