package io.kvhoard.server.config;

/** A setting is invalid; the message names it, where it came from, and what is allowed. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
