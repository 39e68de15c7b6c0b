package io.kvhoard.server.store;

/**
 * A tier could not do what was asked: the medium failed, or the request cannot fit. Checked, so a
 * caller of the {@link Tier} SPI decides what a failure means (a miss, a retry, a demotion).
 * Exceptions of the libraries under a tier (RocksDB, Chronicle, JCuda) are wrapped in one of these
 * and never cross the SPI.
 */
public class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
