package io.kvhoard.perf.load;

import java.io.IOException;

/**
 * A server returned a block that is not the one stored under the key: wrong length or wrong bytes.
 * The measurement fails; a system that returns wrong data does not get a throughput figure.
 */
final class WrongBlockException extends IOException {
  private static final long serialVersionUID = 1L;

  WrongBlockException(String message) {
    super(message);
  }
}
