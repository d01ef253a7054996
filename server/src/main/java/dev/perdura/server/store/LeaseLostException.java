package dev.perdura.server.store;

/** A fenced commit refused because another server took over the lease it was fenced by. */
public final class LeaseLostException extends StoreException {
  public LeaseLostException(String message) {
    super(message, null);
  }
}
