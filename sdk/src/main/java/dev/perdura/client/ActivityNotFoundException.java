package dev.perdura.client;

/**
 * The activity a completion or heartbeat names is not waiting for one: it finished, timed out, was
 * retried (the token is of an earlier attempt), or its workflow closed.
 */
public final class ActivityNotFoundException extends ServiceException {
  public ActivityNotFoundException(String message, Throwable cause) {
    super("NOT_FOUND", message, cause);
  }
}
