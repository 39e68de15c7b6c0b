package io.kvhoard.server.transport.grpc;

import static io.kvhoard.server.transport.grpc.Statuses.invalid;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.Namespace;
import io.kvhoard.protocol.v1.BlockHeader;
import io.kvhoard.protocol.v1.PutChunk;
import io.kvhoard.protocol.v1.PutResponse;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.StoreException;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TieredStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * One chunked Put: the first chunk's header reserves the block in the store, every chunk's bytes go
 * straight into the {@link BlockWriter} at their offset (the chunk's own buffers, wrapped, not
 * copied: nothing the size of a block is held on the heap), and the end of the stream checks the
 * length and the CRC32C before the commit. Any failure aborts the writer, so the store is left as
 * it was; the response says whether this put created the block or found it held (first writer
 * wins).
 *
 * <p>Flow control: one chunk is requested at a time, the next only once the previous one is in the
 * writer, so a slow tier holds the client back instead of queueing chunks on the heap.
 *
 * <p>Thread-safety: gRPC delivers the callbacks one at a time, but a tier may complete a write on
 * its own thread; every method is {@code synchronized}, and the writer is touched only in order,
 * through the {@link #tail} chain of its operations.
 */
final class PutCall implements StreamObserver<PutChunk> {
  private final TieredStore store;
  private final ServerCallStreamObserver<PutResponse> responses;
  private final long maxBlockBytes;

  private BlockWriter writer; // null until the first chunk
  private StoreKey key;
  private long declared;
  private int expectedCrc;
  private long received;
  private final CRC32C crc = new CRC32C();
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
  private boolean finished; // the answer is sent or on its way, or the client went away

  PutCall(TieredStore store, ServerCallStreamObserver<PutResponse> responses, long maxBlockBytes) {
    this.store = store;
    this.responses = responses;
    this.maxBlockBytes = maxBlockBytes;
  }

  @Override
  public synchronized void onNext(PutChunk chunk) {
    if (finished) {
      return;
    }
    try {
      if (writer == null) {
        start(chunk);
      } else if (chunk.hasHeader()) {
        throw invalid("chunk after the first carries a header: only the first chunk has one");
      }
      ByteString data = chunk.getData();
      int n = data.size();
      if (received + n > declared) {
        throw invalid(
            "chunks carry more than the header's length of "
                + declared
                + " bytes (at least "
                + (received + n)
                + "): send exactly length bytes");
      }
      if (n == 0) {
        responses.request(1);
        return;
      }
      List<ByteBuffer> parts = data.asReadOnlyByteBufferList();
      for (ByteBuffer part : parts) {
        crc.update(part.duplicate());
      }
      ByteBuf src = Unpooled.wrappedBuffer(parts.toArray(new ByteBuffer[0]));
      long offset = received;
      received += n;
      BlockWriter w = writer;
      tail = tail.thenCompose(v -> w.write(offset, src));
      tail.whenComplete(
          (v, err) -> {
            src.release();
            written(err);
          });
    } catch (StoreException | RuntimeException e) {
      fail(e);
    }
  }

  /** Checks the header and reserves the block. */
  private void start(PutChunk chunk) throws StoreException {
    if (!chunk.hasHeader()) {
      throw invalid("the first chunk has no header: put the block's header in the first chunk");
    }
    BlockHeader h = chunk.getHeader();
    Namespace ns = Wire.namespace(h.hasNamespace(), h.getNamespace());
    if (!h.hasKey()) {
      throw invalid("header.key is missing: set the block's 32-byte prefix key");
    }
    key = new StoreKey(ns.id(), Wire.blockKey(h.getKey(), "header.key"));
    BlockKey parent =
        h.hasParentKey() ? Wire.blockKey(h.getParentKey(), "header.parent_key") : null;
    declared = h.getLength();
    if (declared < 1) {
      throw invalid(
          "header.length is "
              + Long.toUnsignedString(declared)
              + ": a block is 1 byte or more; set the block's length in bytes");
    }
    if (declared > maxBlockBytes) {
      throw invalid(
          "header.length is "
              + declared
              + " bytes, more than this server takes in one block ("
              + maxBlockBytes
              + " bytes): store smaller blocks, or use the data plane");
    }
    expectedCrc = h.getCrc32C();
    writer = store.reserve(key, parent, Wire.tokens(ns.layout(), declared), declared);
  }

  /** A chunk is in the writer (or failed to go in). */
  private synchronized void written(Throwable err) {
    if (err != null) {
      fail(err);
    } else if (!finished) {
      responses.request(1);
    }
  }

  @Override
  public synchronized void onCompleted() {
    if (finished) {
      return;
    }
    try {
      if (writer == null) {
        throw invalid("the stream has no chunk: send the block, header first");
      }
      if (received != declared) {
        throw invalid(
            "the stream ended after "
                + received
                + " of the header's "
                + declared
                + " bytes: send the whole block before closing");
      }
      int actual = (int) crc.getValue();
      if (actual != expectedCrc) {
        throw invalid(
            "the block's CRC32C is "
                + Integer.toHexString(actual)
                + ", the header says "
                + Integer.toHexString(expectedCrc)
                + ": nothing was stored; compute CRC32C (Castagnoli) over the whole block and"
                + " resend it");
      }
      BlockWriter w = writer;
      CompletableFuture<Boolean> commit = tail.thenCompose(v -> w.commit(expectedCrc));
      tail = commit.thenApply(created -> null); // an abort after this closes after the commit
      commit.whenComplete(
          (created, err) -> {
            w.close();
            committed(created, err);
          });
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private synchronized void committed(Boolean created, Throwable err) {
    if (err != null) {
      fail(err);
      return;
    }
    if (finished) {
      return; // the client went away; the block is stored all the same
    }
    finished = true;
    responses.onNext(PutResponse.newBuilder().setCreated(created).build());
    responses.onCompleted();
  }

  /** The client cancelled or the transport failed: abort, nobody is listening. */
  @Override
  public synchronized void onError(Throwable t) {
    finished = true;
    abort();
  }

  /**
   * Answers with the failure's status once the writer is aborted, so a client that sees the error
   * finds the store as it was.
   */
  private void fail(Throwable t) {
    if (finished) {
      abort();
      return;
    }
    finished = true;
    Status status = Statuses.of(t, key == null ? "put" : "put of " + key);
    BlockWriter w = writer;
    if (w == null) {
      responses.onError(status.asRuntimeException());
      return;
    }
    tail.whenComplete(
        (v, err) -> {
          w.close();
          failed(status);
        });
  }

  private synchronized void failed(Status status) {
    responses.onError(status.asRuntimeException());
  }

  private void abort() {
    BlockWriter w = writer;
    if (w != null) {
      tail.whenComplete((v, err) -> w.close());
    }
  }
}
