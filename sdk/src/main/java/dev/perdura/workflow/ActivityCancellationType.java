package dev.perdura.workflow;

/** What cancelling an activity handle waits for. */
public enum ActivityCancellationType {
  /** Ask the server to cancel and resolve the handle as cancelled at once. */
  TRY_CANCEL,
  /** Ask the server to cancel and resolve the handle when the activity has actually ended. */
  WAIT_CANCELLATION_COMPLETED,
  /** Resolve the handle as cancelled at once and tell nobody: the activity runs on, unobserved. */
  ABANDON
}
