/**
 * The tiered block store: where a block lives between the model server's GPU and NVMe.
 *
 * <p>{@link io.kvhoard.server.store.Tier} is the SPI every medium implements (host RAM in {@code
 * store.host}, NVMe in {@code store.disk}, device memory later in {@code store.gpu}); every tier
 * passes the same contract test. Blocks are named by {@link io.kvhoard.server.store.StoreKey}
 * (namespace id + 32-byte prefix key), written in two phases ({@link
 * io.kvhoard.server.store.BlockWriter}: reserve, write, commit) and read through reference-counted
 * {@link io.kvhoard.server.store.BlockLease}s that eviction respects.
 */
package io.kvhoard.server.store;
