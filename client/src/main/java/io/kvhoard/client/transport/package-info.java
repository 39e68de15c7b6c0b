/**
 * Connections to one cache server: HELLO, pipelined GET/PUT/CONTAINS_PREFIX batches by request id,
 * deadlines on every wait, payloads read straight into the caller's memory; and a pool of them per
 * server. Used by {@link io.kvhoard.client.KvHoardClient}; not an API for model servers (it may
 * change), but usable by tools that need one server's data plane.
 */
package io.kvhoard.client.transport;
