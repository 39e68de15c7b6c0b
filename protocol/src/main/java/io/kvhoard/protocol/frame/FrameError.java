package io.kvhoard.protocol.frame;

import java.util.Objects;

/**
 * A frame the decoder rejected: what was wrong, the request it belonged to when that can be
 * trusted, and whether the stream is still in sync.
 *
 * <p>A server answers a rejected request with {@link Frame#error(FrameError,
 * io.netty.buffer.ByteBufAllocator)}; when {@link #recoverable()} is false it then closes the
 * connection, because the decoder discards everything after a fatal error. A client that rejects a
 * response fails the request with {@link #requestId()}, or every pending request when the error is
 * fatal.
 *
 * <p>Immutable and thread-safe.
 *
 * @param status why the frame was rejected; never {@link FrameStatus#OK}
 * @param requestId the rejected frame's request id, or 0 when its header could not be trusted (bad
 *     magic or header checksum)
 * @param opcode the rejected frame's opcode, or {@link Opcode#NONE} when unknown or untrusted
 * @param response whether the rejected frame claimed to be a response (never answer those with an
 *     error frame)
 * @param recoverable true if the decoder skipped exactly this frame and goes on decoding the next;
 *     false if it discards all further input and the connection must be closed
 * @param message what was wrong, for logs and for the error frame's payload
 */
public record FrameError(
    FrameStatus status,
    long requestId,
    Opcode opcode,
    boolean response,
    boolean recoverable,
    String message)
    implements DecodeResult {

  /** Validates the fields. */
  public FrameError {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(opcode, "opcode");
    Objects.requireNonNull(message, "message");
    if (status == FrameStatus.OK) {
      throw new IllegalArgumentException("a FrameError cannot have status OK");
    }
  }

  /** Whether the connection must be closed after answering (the opposite of recoverable). */
  public boolean fatal() {
    return !recoverable;
  }
}
