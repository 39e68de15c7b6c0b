package io.kvhoard.server.transport.grpc;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.kvhoard.protocol.v1.BlockHeader;
import io.kvhoard.protocol.v1.GetChunk;
import io.kvhoard.protocol.v1.GetRequest;
import io.kvhoard.server.store.BlockLease;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.DirectoryEntry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * One Get: leases the block from the store and streams it in chunks as the client takes them
 * (gRPC's {@code isReady} / on-ready flow control), so at most a chunk or two of the block is on
 * the heap at a time. The first chunk carries the header (namespace, key, parent, length, CRC32C)
 * and the tier the bytes come from.
 *
 * <p>The lease is released exactly once: after the last chunk is handed to gRPC, on a failure, or
 * when the call is cancelled (the client went away, its deadline passed, the server shut down),
 * whichever comes first. A chunk's bytes are copied out of the lease into a fresh array before they
 * are handed to gRPC, since gRPC (in-process transport above all) may hold a message after {@code
 * onNext} returns.
 *
 * <p>Thread-safety: the lease arrives on the store's thread, on-ready and cancel on gRPC's; every
 * method is {@code synchronized}, so a cancel never releases the lease under a chunk being copied.
 */
final class GetCall {
  private final TieredStore store;
  private final ServerCallStreamObserver<GetChunk> out;
  private final GetRequest request;
  private final StoreKey key;
  private final int chunkBytes;

  private BlockLease lease;
  private ByteBuf content; // the lease's bytes (or the staging copy); null until readable
  private ByteBuf staging; // a copy out of device memory, owned here
  private boolean copying; // a device-to-host copy into staging is in flight
  private long sent;
  private boolean done; // completed, failed or cancelled

  GetCall(
      TieredStore store,
      ServerCallStreamObserver<GetChunk> out,
      GetRequest request,
      StoreKey key,
      int chunkBytes) {
    this.store = store;
    this.out = out;
    this.request = request;
    this.key = key;
    this.chunkBytes = chunkBytes;
  }

  /** Registers the handlers and starts the read; called from the service method itself. */
  void start() {
    out.setOnCancelHandler(this::cancelled);
    out.setOnReadyHandler(this::drain);
    store.read(key).whenComplete(this::leased);
  }

  private synchronized void leased(BlockLease l, Throwable err) {
    if (err != null) {
      fail(err);
      return;
    }
    if (l == null) {
      if (!done) {
        done = true;
        out.onError(
            Status.NOT_FOUND
                .withDescription(
                    "no block "
                        + key
                        + " on this server (never stored, evicted or deleted): compute it"
                        + " and put it again")
                .asRuntimeException());
      }
      return;
    }
    if (done) {
      l.release(); // cancelled while the read was in flight
      return;
    }
    lease = l;
    try {
      content = l.content();
    } catch (UnsupportedOperationException deviceMemory) {
      stage(l);
      return;
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    drain();
  }

  /** Copies a block out of device memory, which has no host view, into a buffer of our own. */
  private void stage(BlockLease l) {
    try {
      staging = Unpooled.directBuffer(Math.toIntExact(l.length()));
      copying = true;
      l.copyTo(staging).whenComplete((v, e) -> staged(e));
    } catch (RuntimeException e) {
      copying = false;
      fail(e);
    }
  }

  private synchronized void staged(Throwable err) {
    copying = false;
    if (done) {
      release();
    } else if (err != null) {
      fail(err);
    } else {
      content = staging;
      drain();
    }
  }

  /** Sends chunks while the transport takes them; completes the call after the last one. */
  private synchronized void drain() {
    if (done || content == null) {
      return;
    }
    try {
      long length = lease.length();
      while (sent < length && out.isReady()) {
        int n = (int) Math.min(chunkBytes, length - sent);
        byte[] bytes = new byte[n];
        content.getBytes(content.readerIndex() + (int) sent, bytes);
        GetChunk.Builder c = GetChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(bytes));
        if (sent == 0) {
          c.setHeader(header()).setTier(Wire.toWire(lease.tier()));
        }
        sent += n;
        out.onNext(c.build());
      }
      if (sent == length) {
        done = true;
        release();
        out.onCompleted();
      }
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private BlockHeader header() {
    BlockHeader.Builder h =
        BlockHeader.newBuilder()
            .setNamespace(request.getNamespace())
            .setKey(request.getKey())
            .setLength(lease.length())
            .setCrc32C(lease.crc32c());
    DirectoryEntry e = store.entry(key);
    if (e != null && e.parent() != null) {
      h.setParentKey(Wire.toWire(e.parent()));
    }
    return h.build();
  }

  private synchronized void cancelled() {
    if (!done) {
      done = true;
      release();
    }
  }

  private void fail(Throwable t) {
    if (!done) {
      done = true;
      release();
      out.onError(Statuses.of(t, "get of " + key).asRuntimeException());
    }
  }

  private void release() {
    if (copying) {
      return; // the copy engine still writes into staging: staged() releases
    }
    content = null;
    if (staging != null) {
      staging.release();
      staging = null;
    }
    if (lease != null) {
      lease.release();
      lease = null;
    }
  }
}
