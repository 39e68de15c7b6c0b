/**
 * The gRPC control plane of a cache server: the {@code kvhoard.v1.CacheService} of the protos over
 * the {@link io.kvhoard.server.store.TieredStore}.
 *
 * <p>Everything here is package-private: the service, one object per streaming call ({@code
 * PutCall}, {@code GetCall}), the conversions between wire messages and store types ({@code Wire})
 * and the one mapping of failures to a gRPC {@link io.grpc.Status} with a description that says
 * what to do ({@code Statuses}). Bulk block traffic belongs on the binary data plane; Put and Get
 * here serve clients in languages without a data-plane client.
 */
package io.kvhoard.server.transport.grpc;
