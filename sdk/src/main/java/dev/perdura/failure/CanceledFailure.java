package dev.perdura.failure;

/**
 * Something was cancelled: an activity (as the cause of an {@link ActivityFailure}), or the workflow
 * itself. Thrown by workflow code, it ends a workflow whose cancellation was requested as cancelled.
 */
public final class CanceledFailure extends RuntimeException {
  public CanceledFailure(String message) {
    super(message);
  }
}
