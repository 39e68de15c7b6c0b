/**
 * The data-plane frame protocol: bulk KV blocks between clients and cache servers over Netty.
 *
 * <p>What lives here: the wire value types ({@link io.kvhoard.protocol.frame.Frame}, {@link
 * io.kvhoard.protocol.frame.FrameError}, {@link io.kvhoard.protocol.frame.Hello}, {@link
 * io.kvhoard.protocol.frame.NamespaceId}, the status, tier and opcode enums), the limits a receiver
 * enforces ({@link io.kvhoard.protocol.frame.FrameLimits}) and the codec entry points ({@link
 * io.kvhoard.protocol.frame.FrameCodec}: Netty encoder and decoder, and the same encoding and
 * decoding usable outside a pipeline). The byte layout is specified in {@code
 * protocol/PROTOCOL.md}; this package is its reference implementation.
 *
 * <p>Ownership: a {@link io.kvhoard.protocol.frame.Frame} is reference-counted and owns its
 * descriptor and payload buffers. Whoever receives a frame (from the decoder, or from a factory)
 * releases it, or passes it on to someone who will (the encoder releases what it writes).
 */
package io.kvhoard.protocol.frame;
