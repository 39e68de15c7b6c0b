package io.kvhoard.protocol.frame;

/**
 * What the decoder emits: a {@link Frame} (reference-counted: the receiver releases it) or a {@link
 * FrameError} (a plain value). Nothing else ever comes out of the decoder.
 */
public sealed interface DecodeResult permits Frame, FrameError {}
