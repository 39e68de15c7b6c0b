package io.kvhoard.server.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.protocol.v1.BlockHeader;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.CacheServiceGrpc;
import io.kvhoard.protocol.v1.DType;
import io.kvhoard.protocol.v1.DeleteRequest;
import io.kvhoard.protocol.v1.GetChunk;
import io.kvhoard.protocol.v1.GetRequest;
import io.kvhoard.protocol.v1.KvLayout;
import io.kvhoard.protocol.v1.LookupRequest;
import io.kvhoard.protocol.v1.LookupResponse;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.protocol.v1.PinMode;
import io.kvhoard.protocol.v1.PinRequest;
import io.kvhoard.protocol.v1.PutChunk;
import io.kvhoard.protocol.v1.PutResponse;
import io.kvhoard.protocol.v1.StatsRequest;
import io.kvhoard.protocol.v1.StatsResponse;
import io.kvhoard.protocol.v1.Tier;
import io.kvhoard.protocol.v1.TierStats;
import io.kvhoard.server.store.BlockWriter;
import io.kvhoard.server.store.Pin;
import io.kvhoard.server.store.StoreKey;
import io.kvhoard.server.store.StoreStats;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.directory.DirectoryEntry;
import io.kvhoard.server.store.disk.DiskTier;
import io.kvhoard.server.store.host.HostTier;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache service over an in-process channel against a real tiered store (an 8 MiB host tier).
 * After every test the store's directory, tiers and policies agree and no host lease is left.
 */
@Timeout(60)
class CacheGrpcServiceTest {
  static final int MIB = 1 << 20;
  static final long HOST_CAPACITY = 8L * MIB;
  static final long MAX_BLOCK = 64L * MIB;

  /** 2 layers x 2 KV heads x head dim 64 x bf16 x (K, V) = 1 KiB per token. */
  static final Namespace NS =
      Namespace.newBuilder()
          .setModelId("test/tiny-model")
          .setLayout(
              KvLayout.newBuilder()
                  .setLayers(2)
                  .setKvHeads(2)
                  .setHeadDim(64)
                  .setDtype(DType.DTYPE_BFLOAT16)
                  .setBlockTokens(16)
                  .setTpSize(1))
          .setFormatVersion(1)
          .setHashSeed("0")
          .build();

  /** The same namespace as the data plane's Java client names it. */
  static final NamespaceId NS_ID =
      io.kvhoard.protocol.key.Namespace.newBuilder()
          .modelId("test/tiny-model")
          .layout(
              io.kvhoard.protocol.key.KvLayout.of(
                  2, 2, 64, io.kvhoard.protocol.key.DType.BFLOAT16, 16))
          .hashSeed("0")
          .build()
          .id();

  HostTier host;
  TieredStore store;
  ExecutorService serverExecutor;
  ExecutorService clientExecutor;
  ExecutorService diskIo; // only for a store with a disk tier
  Server server;
  ManagedChannel channel;
  CacheServiceGrpc.CacheServiceBlockingStub blocking;
  CacheServiceGrpc.CacheServiceStub async;
  CountDownLatch cancels = new CountDownLatch(1);

  @BeforeEach
  void start() throws Exception {
    serverExecutor = Executors.newFixedThreadPool(2);
    clientExecutor = Executors.newFixedThreadPool(2);
    host = HostTier.newBuilder().capacityBytes(HOST_CAPACITY).pageSize(64 * 1024).build();
    serve(TieredStore.newBuilder().tier(host));
  }

  /** Builds the store and serves it in process. */
  void serve(TieredStore.Builder b) throws Exception {
    store = b.directory(BlockDirectory.inMemory(1_000)).executor(Runnable::run).build();
    String name = "cache-" + System.identityHashCode(this) + "-" + System.identityHashCode(store);
    CacheGrpcService service = new CacheGrpcService(store, "pod-0", "1.2.3", MIB, MAX_BLOCK);
    server =
        InProcessServerBuilder.forName(name)
            .executor(serverExecutor)
            .addService(ServerInterceptors.intercept(service, new CancelWatcher()))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).executor(clientExecutor).build();
    blocking = CacheServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    async = CacheServiceGrpc.newStub(channel);
  }

  @AfterEach
  void checkAndStop() throws Exception {
    stopServing();
    if (diskIo != null) {
      diskIo.shutdown();
      assertTrue(diskIo.awaitTermination(10, TimeUnit.SECONDS));
    }
    serverExecutor.shutdown();
    clientExecutor.shutdown();
    assertTrue(serverExecutor.awaitTermination(10, TimeUnit.SECONDS));
    assertTrue(clientExecutor.awaitTermination(10, TimeUnit.SECONDS));
  }

  void stopServing() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    assertEquals(List.of(), store.verify(), "directory, tiers and policies agree");
    assertEquals(0, host.outstandingLeases(), "every host lease released");
    store.close();
  }

  /** Counts a call's cancellation once the service's own cancel handler has run. */
  final class CancelWatcher implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, headers)) {
        @Override
        public void onCancel() {
          try {
            super.onCancel();
          } finally {
            cancels.countDown();
          }
        }
      };
    }
  }

  // ---- fixtures -------------------------------------------------------------------------------

  static byte[] keyBytes(long n) {
    byte[] b = new byte[32];
    new SplittableRandom(n * 7919 + 1).nextBytes(b);
    return b;
  }

  static BlockKey key(long n) {
    return BlockKey.newBuilder().setDigest(ByteString.copyFrom(keyBytes(n))).build();
  }

  static StoreKey storeKey(long n) {
    return new StoreKey(NS_ID, io.kvhoard.protocol.key.BlockKey.of(keyBytes(n)));
  }

  static byte[] bytesOf(long n, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(n * 31 + length).nextBytes(b);
    return b;
  }

  static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  static BlockHeader header(long n, long parent, long length, int crc) {
    BlockHeader.Builder h =
        BlockHeader.newBuilder().setNamespace(NS).setKey(key(n)).setLength(length).setCrc32C(crc);
    if (parent >= 0) {
      h.setParentKey(key(parent));
    }
    return h.build();
  }

  /** The chunks of a well-formed put of {@code data}, {@code chunk} bytes each. */
  static List<PutChunk> chunks(BlockHeader header, byte[] data, int chunk) {
    List<PutChunk> out = new ArrayList<>();
    for (int off = 0; off < data.length; off += chunk) {
      PutChunk.Builder c =
          PutChunk.newBuilder()
              .setData(ByteString.copyFrom(data, off, Math.min(chunk, data.length - off)));
      if (off == 0) {
        c.setHeader(header);
      }
      out.add(c.build());
    }
    return out;
  }

  PutResponse put(List<PutChunk> chunks) throws Exception {
    CompletableFuture<PutResponse> result = new CompletableFuture<>();
    StreamObserver<PutChunk> requests =
        async.put(
            new StreamObserver<>() {
              @Override
              public void onNext(PutResponse r) {
                result.complete(r);
              }

              @Override
              public void onError(Throwable t) {
                result.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                result.completeExceptionally(new AssertionError("completed without a response"));
              }
            });
    for (PutChunk c : chunks) {
      requests.onNext(c);
    }
    requests.onCompleted();
    return await(result);
  }

  boolean put(long n, long parent, byte[] data) throws Exception {
    return put(chunks(header(n, parent, data.length, crc(data)), data, MIB)).getCreated();
  }

  static <T> T await(CompletableFuture<T> f) throws Exception {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw s;
      }
      throw e;
    } catch (TimeoutException e) {
      throw new AssertionError("no answer in 30 s", e);
    }
  }

  List<GetChunk> get(long n) {
    List<GetChunk> out = new ArrayList<>();
    Iterator<GetChunk> it =
        blocking.get(GetRequest.newBuilder().setNamespace(NS).setKey(key(n)).build());
    it.forEachRemaining(out::add);
    return out;
  }

  static byte[] concat(List<GetChunk> chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (GetChunk c : chunks) {
      out.writeBytes(c.getData().toByteArray());
    }
    return out.toByteArray();
  }

  static LookupRequest lookupOf(long... ns) {
    LookupRequest.Builder b = LookupRequest.newBuilder().setNamespace(NS);
    for (long n : ns) {
      b.addKeys(key(n));
    }
    return b.build();
  }

  static PinRequest pinOf(PinMode mode, long... ns) {
    PinRequest.Builder b = PinRequest.newBuilder().setNamespace(NS).setMode(mode);
    for (long n : ns) {
      b.addKeys(key(n));
    }
    return b.build();
  }

  /** Asserts the call fails with {@code code} and a description containing {@code words}. */
  static Status assertFails(Status.Code code, String words, ThrowingRunnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    Status s = e.getStatus();
    assertEquals(code, s.getCode(), () -> "status " + s);
    assertNotNull(s.getDescription(), "a description that says what to do");
    assertTrue(
        s.getDescription().contains(words),
        () -> "description '" + s.getDescription() + "' should mention '" + words + "'");
    return s;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Nothing stored, nothing reserved, nothing leased. */
  void assertStoreEmpty() {
    assertEquals(0, store.stats().directoryEntries(), "no block in the directory");
    assertEquals(0, host.usedBytes(), "no host memory held by an aborted put");
    assertEquals(0, host.outstandingLeases());
    assertEquals(List.of(), store.verify());
  }

  // ---- put and get ----------------------------------------------------------------------------

  @Test
  void put_multiChunk_thenGet_bitExactWithHeader() throws Exception {
    byte[] data = bytesOf(1, 3 * MIB);
    assertTrue(put(1, 0, data), "the first put creates the block");

    List<GetChunk> chunks = get(1);
    assertEquals(3, chunks.size(), "3 MiB in 1 MiB chunks");
    assertArrayEquals(data, concat(chunks));
    GetChunk first = chunks.get(0);
    assertTrue(first.hasHeader());
    assertEquals(data.length, first.getHeader().getLength());
    assertEquals(crc(data), first.getHeader().getCrc32C());
    assertEquals(key(1), first.getHeader().getKey());
    assertEquals(key(0), first.getHeader().getParentKey());
    assertEquals(NS, first.getHeader().getNamespace());
    assertEquals(Tier.TIER_HOST, first.getTier());
    assertFalse(chunks.get(1).hasHeader(), "only the first chunk carries the header");

    DirectoryEntry e = store.entry(storeKey(1));
    assertNotNull(e, "stored under the id the data plane derives from the same namespace");
    assertEquals(data.length, e.length());
    assertEquals(crc(data), e.crc32c());
    assertEquals(16, e.tokens(), "3 MiB is more than a block of 16 tokens: a full block");
  }

  @Test
  void putAndGet_throughTheDiskTier_asyncCommitAndRead_bitExact(@TempDir Path dir)
      throws Exception {
    stopServing();
    diskIo = Executors.newFixedThreadPool(2);
    host = HostTier.newBuilder().capacityBytes(MIB).pageSize(64 * 1024).build();
    DiskTier disk =
        DiskTier.newBuilder()
            .directory(dir.resolve("disk"))
            .capacityBytes(64L * MIB)
            .executor(diskIo)
            .build();
    serve(TieredStore.newBuilder().tier(host).tier(disk));
    byte[] data = bytesOf(6, 3 * MIB); // larger than the host tier: straight to disk
    assertTrue(put(6, -1, data));
    assertEquals(1, disk.blockCount());

    List<GetChunk> chunks = get(6);
    assertEquals(Tier.TIER_DISK, chunks.get(0).getTier());
    assertArrayEquals(data, concat(chunks));
    assertEquals(List.of(Tier.TIER_DISK), blocking.lookup(lookupOf(6)).getTiersList());
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "CRC32C",
        () -> put(chunks(header(7, -1, data.length, crc(data) ^ 1), data, MIB)));
    assertNull(store.entry(storeKey(7)));
    assertEquals(1, disk.blockCount(), "the bad put left nothing on disk");
  }

  @Test
  void put_sameKeyTwice_firstWriterWins() throws Exception {
    byte[] data = bytesOf(2, 100_000);
    assertTrue(put(2, -1, data));
    assertFalse(put(2, -1, data), "held already: created is false");
    byte[] other = bytesOf(3, 100_000);
    assertFalse(put(2, -1, other), "other bytes under a held key: the first writer's stay");
    assertArrayEquals(data, concat(get(2)));
    StoreStats s = store.stats();
    assertEquals(1, s.puts());
    assertEquals(1, s.duplicatePuts());
    assertEquals(1, s.conflictingPuts());
  }

  @Test
  void put_wholeTokens_recordsThem() throws Exception {
    assertTrue(put(4, -1, bytesOf(4, 5 * 1024)));
    assertEquals(5, store.entry(storeKey(4)).tokens(), "5 KiB at 1 KiB per token: 5 tokens");
  }

  @Test
  void get_missingBlock_notFound() {
    assertFails(Status.Code.NOT_FOUND, "put it again", () -> get(99));
  }

  @Test
  void get_cancelledMidStream_releasesItsLease() throws Exception {
    assertTrue(put(5, -1, bytesOf(5, 3 * MIB)));
    CompletableFuture<GetChunk> first = new CompletableFuture<>();
    CompletableFuture<ClientCallStreamObserver<GetRequest>> call = new CompletableFuture<>();
    async.get(
        GetRequest.newBuilder().setNamespace(NS).setKey(key(5)).build(),
        new ClientResponseObserver<GetRequest, GetChunk>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<GetRequest> requests) {
            requests.disableAutoRequestWithInitial(1); // take one chunk, then nothing
            call.complete(requests);
          }

          @Override
          public void onNext(GetChunk chunk) {
            first.complete(chunk);
          }

          @Override
          public void onError(Throwable t) {
            first.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            first.completeExceptionally(new AssertionError("completed after one request"));
          }
        });
    assertTrue(await(first).hasHeader());
    assertEquals(1, host.outstandingLeases(), "the server holds the lease mid-stream");

    await(call).cancel("the client gives up", null);
    assertTrue(cancels.await(30, TimeUnit.SECONDS), "the server saw the cancel");
    assertEquals(0, host.outstandingLeases(), "the cancelled Get released its lease");
  }

  // ---- lookup, pins, delete, stats ------------------------------------------------------------

  @Test
  void lookup_countsTheLeadingCachedBlocks_withTheirTiers() throws Exception {
    put(10, -1, bytesOf(10, 4096));
    put(11, 10, bytesOf(11, 4096));
    put(12, 11, bytesOf(12, 4096));

    LookupResponse r = blocking.lookup(lookupOf(10, 11, 12, 13, 14));
    assertEquals(3, r.getCachedBlocks());
    assertEquals(List.of(Tier.TIER_HOST, Tier.TIER_HOST, Tier.TIER_HOST), r.getTiersList());
    assertEquals(0, blocking.lookup(lookupOf(13, 10)).getCachedBlocks(), "a gap ends the prefix");
    assertEquals(2, blocking.lookup(lookupOf(10, 11)).getCachedBlocks());
    assertEquals(0, blocking.lookup(lookupOf()).getCachedBlocks(), "no keys, no prefix");
  }

  @Test
  void lookup_findsBlocksStoredByTheDataPlane_sameNamespaceId() throws Exception {
    byte[] data = bytesOf(20, 1000);
    try (BlockWriter w = store.reserve(storeKey(20), null, 16, data.length)) {
      w.write(0, Unpooled.wrappedBuffer(data)).join();
      assertTrue(w.commit(crc(data)).join());
    }
    assertEquals(1, blocking.lookup(lookupOf(20)).getCachedBlocks());
    assertArrayEquals(data, concat(get(20)));
  }

  @Test
  void pinAndUnpin_visibleInTheStoresEntry() throws Exception {
    put(30, -1, bytesOf(30, 4096));
    Supplier<Pin> pin = () -> store.entry(storeKey(30)).pin();

    assertEquals(1, blocking.pin(pinOf(PinMode.PIN_MODE_SOFT, 30, 31)).getAffected());
    assertEquals(Pin.SOFT, pin.get());
    assertEquals(1, blocking.pin(pinOf(PinMode.PIN_MODE_HARD, 30)).getAffected());
    assertEquals(Pin.HARD, pin.get());
    assertEquals(
        0, blocking.pin(pinOf(PinMode.PIN_MODE_SOFT, 30)).getAffected(), "never lowered by pin");
    assertEquals(Pin.HARD, pin.get());

    assertEquals(1, blocking.unpin(pinOf(PinMode.PIN_MODE_UNSPECIFIED, 30, 31)).getAffected());
    assertEquals(Pin.NONE, pin.get());
    assertEquals(0, blocking.unpin(pinOf(PinMode.PIN_MODE_HARD, 30)).getAffected());

    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "PIN_MODE_SOFT",
        () -> blocking.pin(pinOf(PinMode.PIN_MODE_UNSPECIFIED, 30)));
    assertEquals(Pin.NONE, pin.get());
  }

  @Test
  void delete_removesHeldBlocks_countsOnlyThose() throws Exception {
    put(40, -1, bytesOf(40, 4096));
    put(41, 40, bytesOf(41, 4096));
    DeleteRequest req =
        DeleteRequest.newBuilder().setNamespace(NS).addKeys(key(41)).addKeys(key(49)).build();
    assertEquals(1, blocking.delete(req).getDeleted());
    assertNull(store.entry(storeKey(41)));
    assertNotNull(store.entry(storeKey(40)));
    assertEquals(0, blocking.delete(req).getDeleted(), "deleting again finds nothing");
    assertFails(Status.Code.NOT_FOUND, "no block", () -> get(41));
  }

  @Test
  void stats_reportTheStoresNumbers() throws Exception {
    put(50, -1, bytesOf(50, 100_000));
    put(51, 50, bytesOf(51, 200_000));
    get(50);
    assertFails(Status.Code.NOT_FOUND, "no block", () -> get(59));

    StatsResponse r = blocking.stats(StatsRequest.getDefaultInstance());
    assertEquals("pod-0", r.getPod());
    assertEquals("1.2.3", r.getVersion());
    assertEquals(1, r.getTiersCount());
    TierStats t = r.getTiers(0);
    StoreStats.TierStats s = store.stats().tiers().get(0);
    assertEquals(Tier.TIER_HOST, t.getTier());
    assertEquals(HOST_CAPACITY, t.getCapacityBytes());
    assertEquals(host.usedBytes(), t.getUsedBytes());
    assertTrue(t.getUsedBytes() >= 300_000, "both blocks' pages");
    assertEquals(2, t.getBlocks());
    assertEquals(1, t.getHits());
    assertEquals(1, t.getMisses());
    assertEquals(s.evictions(), t.getEvictions());
    assertEquals(0, t.getChecksumFailures());
  }

  // ---- bad input: a clear status, the store unchanged ----------------------------------------

  @Test
  void badNamespace_invalidArgument_storeUnchanged() throws Exception {
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "namespace is missing",
        () -> blocking.lookup(LookupRequest.newBuilder().addKeys(key(1)).build()));
    Namespace noLayers = NS.toBuilder().setLayout(NS.getLayout().toBuilder().setLayers(0)).build();
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "layers",
        () ->
            put(
                chunks(
                    header(1, -1, 10, 0).toBuilder().setNamespace(noLayers).build(),
                    new byte[10],
                    MIB)));
    Namespace noDtype =
        NS.toBuilder()
            .setLayout(NS.getLayout().toBuilder().setDtype(DType.DTYPE_UNSPECIFIED))
            .build();
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "dtype",
        () -> blocking.lookup(LookupRequest.newBuilder().setNamespace(noDtype).build()));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "model_id",
        () ->
            blocking.delete(
                DeleteRequest.newBuilder().setNamespace(NS.toBuilder().setModelId("")).build()));
    assertStoreEmpty();
  }

  @Test
  void badKeyLength_invalidArgument_namesTheField_storeUnchanged() throws Exception {
    put(60, -1, bytesOf(60, 4096));
    BlockKey shortKey = BlockKey.newBuilder().setDigest(ByteString.copyFrom(new byte[31])).build();

    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "keys[1].digest is 31 bytes",
        () -> blocking.lookup(lookupOf(60).toBuilder().addKeys(shortKey).build()));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "keys[1]",
        () ->
            blocking.delete(
                DeleteRequest.newBuilder()
                    .setNamespace(NS)
                    .addKeys(key(60))
                    .addKeys(shortKey)
                    .build()));
    assertNotNull(store.entry(storeKey(60)), "a batch with a bad key deletes nothing");
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "keys[0]",
        () -> blocking.pin(pinOf(PinMode.PIN_MODE_HARD).toBuilder().addKeys(shortKey).build()));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "key.digest is 0 bytes",
        () ->
            get(
                GetRequest.newBuilder()
                    .setNamespace(NS)
                    .setKey(BlockKey.getDefaultInstance())
                    .build()));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "header.key.digest is 31 bytes",
        () ->
            put(
                chunks(
                    header(61, -1, 10, 0).toBuilder().setKey(shortKey).build(),
                    new byte[10],
                    MIB)));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "header.parent_key.digest is 31 bytes",
        () ->
            put(
                chunks(
                    header(61, -1, 10, 0).toBuilder().setParentKey(shortKey).build(),
                    new byte[10],
                    MIB)));

    assertEquals(1, store.stats().directoryEntries(), "only the one good block");
    assertEquals(Pin.NONE, store.entry(storeKey(60)).pin());
  }

  void get(GetRequest request) {
    blocking.get(request).forEachRemaining(c -> {});
  }

  @Test
  void put_chunkBeyondTheDeclaredLength_invalidArgument_storeUnchanged() throws Exception {
    byte[] data = bytesOf(70, MIB + 1);
    BlockHeader h = header(70, -1, MIB, crc(data)); // declares one byte less than sent
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "more than the header's length",
        () -> put(chunks(h, data, 512 * 1024)));
    assertStoreEmpty();
  }

  @Test
  void put_streamEndsShort_invalidArgument_storeUnchanged() throws Exception {
    byte[] data = bytesOf(71, 1000);
    BlockHeader h = header(71, -1, 2000, crc(data));
    assertFails(
        Status.Code.INVALID_ARGUMENT, "1000 of the header's 2000", () -> put(chunks(h, data, 100)));
    assertStoreEmpty();
  }

  @Test
  void put_crcMismatch_invalidArgument_storeUnchanged() throws Exception {
    byte[] data = bytesOf(72, 3 * MIB);
    BlockHeader h = header(72, -1, data.length, crc(data) ^ 1);
    assertFails(Status.Code.INVALID_ARGUMENT, "CRC32C", () -> put(chunks(h, data, MIB)));
    assertStoreEmpty();
  }

  @Test
  void put_blockLargerThanEveryTier_resourceExhausted_storeUnchanged() throws Exception {
    BlockHeader h = header(73, -1, 2 * HOST_CAPACITY, 0);
    assertFails(
        Status.Code.RESOURCE_EXHAUSTED,
        "larger than the tier's whole capacity",
        () -> put(List.of(PutChunk.newBuilder().setHeader(h).build())));
    assertStoreEmpty();
  }

  @Test
  void put_blockOverTheServersLimit_invalidArgument_nothingReserved() throws Exception {
    BlockHeader h = header(75, -1, MAX_BLOCK + 1, 0);
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "more than this server takes",
        () -> put(List.of(PutChunk.newBuilder().setHeader(h).build())));
    BlockHeader huge = header(75, -1, -1L, 0); // uint64 max on the wire
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "18446744073709551615",
        () -> put(List.of(PutChunk.newBuilder().setHeader(huge).build())));
    assertStoreEmpty();
  }

  @Test
  void put_malformedStreams_invalidArgument_storeUnchanged() throws Exception {
    byte[] data = bytesOf(74, 1000);
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "first chunk has no header",
        () -> put(List.of(PutChunk.newBuilder().setData(ByteString.copyFrom(data)).build())));
    List<PutChunk> twoHeaders = new ArrayList<>(chunks(header(74, -1, 1000, crc(data)), data, 500));
    twoHeaders.set(1, twoHeaders.get(1).toBuilder().setHeader(header(74, -1, 1000, 0)).build());
    assertFails(Status.Code.INVALID_ARGUMENT, "only the first chunk", () -> put(twoHeaders));
    assertFails(Status.Code.INVALID_ARGUMENT, "no chunk", () -> put(List.of()));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "header.length is 0",
        () -> put(List.of(PutChunk.newBuilder().setHeader(header(74, -1, 0, 0)).build())));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "header.key is missing",
        () ->
            put(
                List.of(
                    PutChunk.newBuilder()
                        .setHeader(header(74, -1, 10, 0).toBuilder().clearKey())
                        .build())));
    assertFails(
        Status.Code.INVALID_ARGUMENT,
        "cannot be its own parent",
        () -> put(chunks(header(74, 74, data.length, crc(data)), data, MIB)));
    assertStoreEmpty();
  }
}
