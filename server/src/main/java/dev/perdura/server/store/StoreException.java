package dev.perdura.server.store;

/** The store could not do what was asked; nothing of a failed commit was applied. */
public class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
