/**
 * The data plane: the binary frame protocol of {@code protocol/PROTOCOL.md} served on Netty over
 * the tiered store — batched GET/PUT/CONTAINS_PREFIX/DELETE, zero-copy sends from host-tier pages,
 * back-pressure on in-flight bytes, and a hostile client disconnected without harm to the others.
 */
package io.kvhoard.server.transport.data;
