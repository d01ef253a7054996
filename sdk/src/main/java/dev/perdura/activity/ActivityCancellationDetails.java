package dev.perdura.activity;

/**
 * Why an activity was cancelled. Exactly one reason is set, when cancellation first happens, and the
 * details never change afterwards.
 *
 * @param notFound the server no longer knows this attempt (it timed out there, was retried, or its
 *     workflow closed)
 * @param cancelRequested the workflow asked to cancel the activity
 * @param paused an operator paused the activity
 * @param timedOut the worker saw the start-to-close or heartbeat timeout pass
 * @param workerShutdown the worker shut down and its grace period ended
 * @param reset an operator reset the activity; it starts over from attempt 1
 */
public record ActivityCancellationDetails(
    boolean notFound, boolean cancelRequested, boolean paused, boolean timedOut, boolean workerShutdown,
    boolean reset) {

  /** The reasons, one of which is a cancellation's. */
  public enum Reason { NOT_FOUND, CANCEL_REQUESTED, PAUSED, TIMED_OUT, WORKER_SHUTDOWN, RESET }

  public static ActivityCancellationDetails of(Reason reason) {
    return new ActivityCancellationDetails(
        reason == Reason.NOT_FOUND, reason == Reason.CANCEL_REQUESTED, reason == Reason.PAUSED,
        reason == Reason.TIMED_OUT, reason == Reason.WORKER_SHUTDOWN, reason == Reason.RESET);
  }

  public Reason reason() {
    if (notFound) {
      return Reason.NOT_FOUND;
    } else if (cancelRequested) {
      return Reason.CANCEL_REQUESTED;
    } else if (paused) {
      return Reason.PAUSED;
    } else if (timedOut) {
      return Reason.TIMED_OUT;
    } else if (workerShutdown) {
      return Reason.WORKER_SHUTDOWN;
    }
    return Reason.RESET;
  }
}
