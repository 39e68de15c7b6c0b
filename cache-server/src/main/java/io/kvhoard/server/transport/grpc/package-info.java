/**
 * The gRPC control plane of a cache server: the {@code kvhoard.v1.CacheService} of the protos over
 * the {@link io.kvhoard.server.store.TieredStore}, with the standard {@code grpc.health.v1} health
 * service and server reflection, so {@code grpcurl -plaintext HOST:PORT list} works.
 *
 * <p>{@link io.kvhoard.server.transport.grpc.GrpcServer} is the one entry point (a builder; the
 * caller owns the store, the executor and any event loops it passes in). Everything else is
 * package-private: the service, one object per streaming call ({@code PutCall}, {@code GetCall}),
 * the conversions between wire messages and store types ({@code Wire}) and the one mapping of
 * failures to a gRPC {@link io.grpc.Status} with a description that says what to do ({@code
 * Statuses}). Bulk block traffic belongs on the binary data plane; Put and Get here serve clients
 * in languages without a data-plane client.
 */
package io.kvhoard.server.transport.grpc;
