package io.kvhoard.client;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.Namespace;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockStored;
import io.kvhoard.protocol.v1.DType;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.protocol.v1.KvLayout;
import io.kvhoard.protocol.v1.PublishResponse;
import io.kvhoard.protocol.v1.Tier;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Publishes {@code BlockStored} events for the blocks a client stores, on one long-lived {@code
 * IndexService.Publish} stream ({@code kvhoard/v1/index.proto}), so the prefix index learns what
 * the cluster holds for this pod. Each event carries the run's keys, the key before it, its token
 * ids and the block size, so the index can compute its own canonical keys. Sequence numbers
 * increase by one per event; a stream that fails is reopened on the next event, and the events lost
 * with it show as a gap the index can detect.
 *
 * <p>Thread-safe: events are sent under the object's lock, in sequence order.
 */
final class EventPublisher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(EventPublisher.class.getName());

  private final String pod;
  private final io.kvhoard.protocol.v1.Namespace namespace;
  private final Channel channel;
  private final ManagedChannel owned; // closed with the publisher; null if the caller owns it
  private final Clock clock;
  private final ClientMetrics metrics;
  private StreamObserver<BlockEvent> stream;
  private long sequence;

  EventPublisher(
      String pod,
      Namespace namespace,
      Channel channel,
      ManagedChannel owned,
      Clock clock,
      ClientMetrics metrics) {
    this.pod = pod;
    this.namespace = toProto(namespace);
    this.channel = channel;
    this.owned = owned;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * Publishes that blocks {@code [from, to)} of a prompt are stored.
   *
   * @param keys the prompt's block keys
   * @param tokens the prompt's token ids
   */
  synchronized void stored(
      List<BlockKey> keys, int from, int to, int[] tokens, int blockTokens, BlockTier tier) {
    BlockStored.Builder s =
        BlockStored.newBuilder().setBlockTokens(blockTokens).setTier(Tier.forNumber(tier.code()));
    for (int i = from; i < to; i++) {
      s.addKeys(key(keys.get(i)));
    }
    if (from > 0) {
      s.setParentKey(key(keys.get(from - 1)));
    }
    for (int t = from * blockTokens; t < to * blockTokens; t++) {
      s.addTokenIds(tokens[t] & 0xFFFF_FFFFL);
    }
    BlockEvent event =
        BlockEvent.newBuilder()
            .setNamespace(namespace)
            .setPod(pod)
            .setSequence(++sequence)
            .setTimestampMs(clock.millis())
            .setStored(s)
            .build();
    try {
      if (stream == null) {
        Responses responses = new Responses();
        stream = IndexServiceGrpc.newStub(channel).publish(responses);
        responses.stream = stream;
      }
      stream.onNext(event);
      metrics.blocks("publish", "sent", to - from);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "publishing a block event failed: " + e);
      metrics.failure("publish");
      stream = null;
    }
  }

  private synchronized void streamFailed(StreamObserver<BlockEvent> failed, Throwable t) {
    LOG.log(System.Logger.Level.WARNING, "the block-event stream failed: " + t);
    metrics.failure("publish");
    if (stream == failed) {
      stream = null; // reopened on the next event
    }
  }

  /** Ends the stream and closes the channel the publisher opened. */
  @Override
  public synchronized void close() {
    try {
      if (stream != null) {
        stream.onCompleted();
        stream = null;
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "ending the block-event stream: " + e);
    } finally {
      if (owned != null) {
        owned.shutdown();
        try {
          if (!owned.awaitTermination(2, TimeUnit.SECONDS)) {
            owned.shutdownNow();
          }
        } catch (InterruptedException e) {
          owned.shutdownNow();
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private final class Responses implements StreamObserver<PublishResponse> {
    private StreamObserver<BlockEvent> stream; // set under the publisher's lock, read under it

    @Override
    public void onNext(PublishResponse value) {}

    @Override
    public void onError(Throwable t) {
      synchronized (EventPublisher.this) {
        streamFailed(stream, t);
      }
    }

    @Override
    public void onCompleted() {}
  }

  private static io.kvhoard.protocol.v1.BlockKey key(BlockKey k) {
    return io.kvhoard.protocol.v1.BlockKey.newBuilder()
        .setDigest(ByteString.copyFrom(k.toBytes()))
        .build();
  }

  static io.kvhoard.protocol.v1.Namespace toProto(Namespace ns) {
    io.kvhoard.protocol.key.KvLayout l = ns.layout();
    return io.kvhoard.protocol.v1.Namespace.newBuilder()
        .setModelId(ns.modelId())
        .setLayout(
            KvLayout.newBuilder()
                .setLayers(l.layers())
                .setKvHeads(l.kvHeads())
                .setHeadDim(l.headDim())
                .setDtype(DType.valueOf("DTYPE_" + l.dtype().name()))
                .setBlockTokens(l.blockTokens())
                .setTpRank(l.tpRank())
                .setTpSize(l.tpSize()))
        .setFormatVersion(ns.formatVersion())
        .setCacheSalt(ns.cacheSalt())
        .setLoraName(ns.loraName())
        .setHashSeed(ns.hashSeed())
        .build();
  }
}
