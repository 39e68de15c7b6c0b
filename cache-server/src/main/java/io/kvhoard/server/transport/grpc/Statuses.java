package io.kvhoard.server.transport.grpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.kvhoard.server.store.NoSpaceException;
import io.kvhoard.server.store.StoreException;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one mapping from a failure inside the service to the {@link Status} a client sees. Every
 * description says what the client can do about it; store and library exceptions do not cross the
 * wire as such (only their messages, which name the tier and sizes).
 *
 * <ul>
 *   <li>{@link StatusException} / {@link StatusRuntimeException}: their status, as thrown by the
 *       request checks ({@link #invalid}).
 *   <li>{@link NoSpaceException}: {@code RESOURCE_EXHAUSTED}; the description tells a block that
 *       can never fit from a store that is full of pinned or leased blocks right now.
 *   <li>Any other {@link StoreException}: {@code UNAVAILABLE} (a medium failed; another try, or
 *       another server, may succeed).
 *   <li>{@link IllegalArgumentException}: {@code INVALID_ARGUMENT} (the store refused the request).
 *   <li>{@link IllegalStateException}: {@code UNAVAILABLE} (the store is closed: the server is
 *       shutting down).
 *   <li>Anything else: {@code INTERNAL}, logged with its stack trace (a bug).
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
final class Statuses {
  private static final System.Logger LOG = System.getLogger(Statuses.class.getName());

  private Statuses() {}

  /** An {@code INVALID_ARGUMENT} to throw from a request check. */
  static StatusRuntimeException invalid(String description) {
    return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
  }

  /** The status for {@code failure}, as the class comment says; {@code what} names the call. */
  static Status of(Throwable failure, String what) {
    Throwable t = unwrap(failure);
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (t instanceof StatusException s) {
      return s.getStatus();
    }
    if (t instanceof NoSpaceException e) {
      return Status.RESOURCE_EXHAUSTED
          .withDescription(
              what
                  + ": "
                  + e.getMessage()
                  + (e.everFits()
                      ? "; every tier is full of pinned or leased blocks: retry later, unpin"
                          + " blocks, or store it on another server"
                      : ""))
          .withCause(e);
    }
    if (t instanceof StoreException e) {
      LOG.log(Level.WARNING, what + " failed in the store: " + e.getMessage(), e);
      return Status.UNAVAILABLE
          .withDescription(
              what + ": the store failed (" + e.getMessage() + "); retry, or use another server")
          .withCause(e);
    }
    if (t instanceof IllegalArgumentException e) {
      return Status.INVALID_ARGUMENT.withDescription(what + ": " + e.getMessage()).withCause(e);
    }
    if (t instanceof IllegalStateException e) {
      return Status.UNAVAILABLE
          .withDescription(
              what
                  + ": the store refused it ("
                  + e.getMessage()
                  + "); the server is probably shutting down: retry on another server")
          .withCause(e);
    }
    LOG.log(Level.ERROR, what + " failed unexpectedly", t);
    return Status.INTERNAL
        .withDescription(
            what
                + " failed on the server ("
                + t
                + "); this is a bug in kvhoard: retry, and report it with the server's log")
        .withCause(t);
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
