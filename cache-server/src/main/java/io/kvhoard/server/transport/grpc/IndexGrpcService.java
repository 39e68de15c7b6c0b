package io.kvhoard.server.transport.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.FollowRequest;
import io.kvhoard.protocol.v1.IndexServiceGrpc;
import io.kvhoard.protocol.v1.PodScore;
import io.kvhoard.protocol.v1.PublishResponse;
import io.kvhoard.protocol.v1.ScoreRequest;
import io.kvhoard.protocol.v1.ScoreResponse;
import io.kvhoard.protocol.v1.TierCounts;
import io.kvhoard.server.index.BlockEventSink;
import io.kvhoard.server.index.EventJournal;
import io.kvhoard.server.index.Scorer;
import io.kvhoard.server.index.Scoring;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code kvhoard.v1.IndexService}: {@code Score} over the prefix index and scorer, {@code Publish}
 * into the server's event sink (the index and the follow journal), {@code Follow} from the journal.
 *
 * <ul>
 *   <li><b>Score</b>: {@code token_ids} are cut into the index's blocks; {@code keys} are publisher
 *       keys matched against key-only events, counted in the block size those publishers declared.
 *       No prompt is {@code INVALID_ARGUMENT}; {@code pod_load} is in the server's load unit
 *       ({@code --index-load-unit} seconds per unit). Pods come best first.
 *   <li><b>Publish</b>: each event goes to the sink as it arrives; malformed ones are counted by
 *       the index, not refused. The response counts the events received.
 *   <li><b>Follow</b>: buffered events after each pod's {@code resume_after}, then live events; a
 *       follower that stops reading falls behind by at most {@link #MAX_LAG} events before it is
 *       cancelled with {@code RESOURCE_EXHAUSTED} (resume with the last sequences it has).
 * </ul>
 *
 * <p>Thread-safe.
 */
final class IndexGrpcService extends IndexServiceGrpc.IndexServiceImplBase {
  static final int MAX_LAG = 65_536;

  private final Scoring scoring;
  private final BlockEventSink sink;
  private final EventJournal journal;

  IndexGrpcService(Scoring scoring, BlockEventSink sink, EventJournal journal) {
    this.scoring = Objects.requireNonNull(scoring, "scoring");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.journal = Objects.requireNonNull(journal, "journal");
  }

  @Override
  public void score(ScoreRequest req, StreamObserver<ScoreResponse> out) {
    List<Scorer.PodScore> scores;
    try {
      scores =
          switch (req.getPromptCase()) {
            case TOKEN_IDS -> {
              var ids = req.getTokenIds();
              long[] tokens = new long[ids.getIdsCount()];
              for (int i = 0; i < tokens.length; i++) {
                tokens[i] = ids.getIds(i);
              }
              yield scoring.forTokens(
                  req.getNamespace(), tokens, req.getPodsList(), req.getPodLoadMap());
            }
            case KEYS ->
                scoring.forKeys(
                    req.getNamespace(),
                    req.getKeys().getKeysList(),
                    req.getPodsList(),
                    req.getPodLoadMap());
            default ->
                throw Statuses.invalid(
                    "a ScoreRequest needs the prompt: token_ids (the prompt's token ids) or keys"
                        + " (publisher block keys)");
          };
    } catch (RuntimeException e) {
      out.onError(Statuses.of(e, "Score").asRuntimeException());
      return;
    }
    ScoreResponse.Builder b = ScoreResponse.newBuilder();
    for (Scorer.PodScore s : scores) {
      b.addPods(
          PodScore.newBuilder()
              .setPod(s.pod())
              .setBlocks(s.blocks())
              .setTokens(s.tokens())
              .setTiers(TierCounts.newBuilder().setGpu(s.gpu()).setHost(s.host()).setDisk(s.disk()))
              .setScore(s.score()));
    }
    out.onNext(b.build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<BlockEvent> publish(StreamObserver<PublishResponse> out) {
    return new StreamObserver<>() {
      private long accepted;

      @Override
      public void onNext(BlockEvent event) {
        sink.accept(event);
        accepted++;
      }

      @Override
      public void onError(Throwable t) {
        // the publisher went away; what it sent is applied
      }

      @Override
      public void onCompleted() {
        out.onNext(PublishResponse.newBuilder().setAccepted(accepted).build());
        out.onCompleted();
      }
    };
  }

  @Override
  public void follow(FollowRequest req, StreamObserver<BlockEvent> out) {
    ServerCallStreamObserver<BlockEvent> call = (ServerCallStreamObserver<BlockEvent>) out;
    AtomicBoolean done = new AtomicBoolean();
    int[] lag = {0};
    AutoCloseable[] handle = new AutoCloseable[1];
    Runnable stop =
        () -> {
          try {
            if (handle[0] != null) {
              handle[0].close();
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    call.setOnCancelHandler(
        () -> {
          done.set(true);
          stop.run();
        });
    handle[0] =
        journal.follow(
            req.hasNamespace() ? req.getNamespace() : null,
            req.getResumeAfterMap(),
            e -> {
              if (done.get()) {
                return;
              }
              lag[0] = call.isReady() ? 0 : lag[0] + 1;
              if (lag[0] > MAX_LAG) {
                done.set(true);
                call.onError(
                    Status.RESOURCE_EXHAUSTED
                        .withDescription(
                            "follower fell "
                                + MAX_LAG
                                + " events behind; follow again with resume_after set to the"
                                + " last sequence received per pod")
                        .asRuntimeException());
                stop.run();
                return;
              }
              call.onNext(e);
            });
    if (done.get()) {
      stop.run();
    }
  }
}
