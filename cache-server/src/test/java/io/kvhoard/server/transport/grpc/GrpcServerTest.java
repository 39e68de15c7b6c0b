package io.kvhoard.server.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.kvhoard.protocol.v1.CacheServiceGrpc;
import io.kvhoard.protocol.v1.StatsRequest;
import io.kvhoard.protocol.v1.StatsResponse;
import io.kvhoard.server.store.TieredStore;
import io.kvhoard.server.store.directory.BlockDirectory;
import io.kvhoard.server.store.host.HostTier;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link GrpcServer} on 127.0.0.1, an ephemeral port, real Netty (caller-owned NIO event loops):
 * health, reflection, the cache service, and a graceful close that turns health NOT_SERVING.
 */
@Timeout(60)
class GrpcServerTest {
  HostTier host;
  TieredStore store;
  ExecutorService executor;
  EventLoopGroup loops;
  GrpcServer server;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    host = HostTier.newBuilder().capacityBytes(4 << 20).pageSize(64 * 1024).build();
    store =
        TieredStore.newBuilder()
            .tier(host)
            .directory(BlockDirectory.inMemory(100))
            .executor(Runnable::run)
            .build();
    executor = Executors.newFixedThreadPool(2);
    loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    server =
        GrpcServer.newBuilder()
            .store(store)
            .executor(executor)
            .bind("127.0.0.1", 0)
            .eventLoops(loops, loops, NioServerSocketChannel.class)
            .shutdownGrace(Duration.ofSeconds(10))
            .identity("pod-7", "0.1.0-test")
            .build()
            .start();
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .eventLoopGroup(loops)
            .channelType(NioSocketChannel.class)
            .executor(executor)
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.close();
    loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    executor.shutdown();
    assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
    assertEquals(0, host.outstandingLeases());
    store.close();
  }

  @Test
  void started_onEphemeralLoopbackPort_healthServing() {
    assertTrue(server.port() > 0, "port 0 binds an ephemeral port");
    assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
    HealthGrpc.HealthBlockingStub health =
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    assertEquals(
        ServingStatus.SERVING,
        health.check(HealthCheckRequest.getDefaultInstance()).getStatus(),
        "the server as a whole");
    assertEquals(
        ServingStatus.SERVING,
        health
            .check(HealthCheckRequest.newBuilder().setService(GrpcServer.CACHE_SERVICE).build())
            .getStatus());
  }

  @Test
  void reflection_listsTheServices_asGrpcurlListDoes() throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse r) {
                    answer.complete(r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();

    List<String> names = new ArrayList<>();
    for (ServiceResponse s :
        answer.get(30, TimeUnit.SECONDS).getListServicesResponse().getServiceList()) {
      names.add(s.getName());
    }
    assertTrue(names.contains("kvhoard.v1.CacheService"), names::toString);
    assertTrue(names.contains("grpc.health.v1.Health"), names::toString);
    assertTrue(names.contains("grpc.reflection.v1.ServerReflection"), names::toString);
  }

  @Test
  void cacheService_overNetty_answers() {
    StatsResponse r =
        CacheServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .stats(StatsRequest.getDefaultInstance());
    assertEquals("pod-7", r.getPod());
    assertEquals(4 << 20, r.getTiers(0).getCapacityBytes());
  }

  @Test
  void close_turnsHealthNotServing_beforeThePortCloses() throws Exception {
    BlockingQueue<ServingStatus> seen = new LinkedBlockingQueue<>();
    HealthGrpc.newStub(channel)
        .watch(
            HealthCheckRequest.getDefaultInstance(),
            new ClientResponseObserver<HealthCheckRequest, HealthCheckResponse>() {
              ClientCallStreamObserver<HealthCheckRequest> call;

              @Override
              public void beforeStart(ClientCallStreamObserver<HealthCheckRequest> c) {
                call = c;
              }

              @Override
              public void onNext(HealthCheckResponse r) {
                seen.add(r.getStatus());
                if (r.getStatus() == ServingStatus.NOT_SERVING) {
                  call.cancel("seen NOT_SERVING: a load balancer would stop here", null);
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    assertEquals(ServingStatus.SERVING, seen.poll(30, TimeUnit.SECONDS));

    // The watch is in flight: close waits for it, and it ends when the watcher sees NOT_SERVING.
    server.close();
    assertEquals(ServingStatus.NOT_SERVING, seen.poll(30, TimeUnit.SECONDS));
    server.close(); // idempotent
  }

  @Test
  void builder_badSettings_failFastWithTheSetting() {
    assertThrows(
        IllegalArgumentException.class, () -> GrpcServer.newBuilder().bind("127.0.0.1", 70_000));
    assertThrows(IllegalArgumentException.class, () -> GrpcServer.newBuilder().bind(" ", 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> GrpcServer.newBuilder().shutdownGrace(Duration.ofSeconds(-1)));
    IllegalStateException noStore =
        assertThrows(
            IllegalStateException.class, () -> GrpcServer.newBuilder().executor(executor).build());
    assertTrue(noStore.getMessage().contains("store"));
    IllegalStateException again = assertThrows(IllegalStateException.class, server::start);
    assertTrue(again.getMessage().contains("already started"));
  }
}
