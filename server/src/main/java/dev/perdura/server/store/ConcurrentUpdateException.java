package dev.perdura.server.store;

/**
 * A write named a version that is no longer the stored one (another writer got there first), or
 * created an execution that already exists. Nothing of the commit was applied.
 */
public final class ConcurrentUpdateException extends StoreException {
  public ConcurrentUpdateException(String message) {
    super(message, null);
  }
}
