/**
 * The host tier: blocks in off-heap RAM, never on the Java heap.
 *
 * <p>{@link io.kvhoard.server.store.host.HostMemory} maps large slabs (shared-memory files under
 * {@code /dev/shm}, or direct buffers) and carves them into fixed-size pages; a block takes as many
 * pages as it needs, anywhere, so memory never fragments. {@link
 * io.kvhoard.server.store.host.HostTier} implements the {@link io.kvhoard.server.store.Tier} SPI on
 * it: reads hand out reference-counted leases whose content is a view of the pages themselves, sent
 * to a socket without a copy.
 */
package io.kvhoard.server.store.host;
