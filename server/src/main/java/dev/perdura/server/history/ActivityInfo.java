package dev.perdura.server.history;

/**
 * A pending activity of a run: scheduled, waiting for a retry, or started. Timeouts are the
 * derived values written into {@code ActivityTaskScheduled}.
 */
final class ActivityInfo {
  long scheduledEventId;
  String activityId;
  String activityType;
  String taskQueue;
  long scheduleToCloseMillis;
  long scheduleToStartMillis;
  long startToCloseMillis;
  long heartbeatMillis;
  /** The defaulted RetryPolicy proto. */
  byte[] retryPolicy;
  byte[] priority;
  int attempt = 1;
  boolean started;
  /** Waiting out a retry backoff: not in a task queue until {@link #scheduledTime}. */
  boolean waitingForRetry;
  long firstScheduledTime;
  /** When the current attempt was (or will be) put into the task queue. */
  long scheduledTime;
  long startedTime;
  String startedIdentity = "";
  String startedRequestId = "";
  byte[] heartbeatDetails;
  long lastHeartbeatTime;
  boolean cancelRequested;
  long cancelRequestedEventId;
  /** Failure of the previous attempt (Failure proto), carried into the next attempt. */
  byte[] lastFailure;
  long lastAttemptCompleteTime;
  boolean paused;
  long pausedTime;
  String pausedBy = "";
  String pauseReason = "";
  boolean resetRequested;

  /** Epoch millis after which no attempt may run (schedule-to-close), 0 = none. */
  long expirationTime() {
    return scheduleToCloseMillis > 0 ? firstScheduledTime + scheduleToCloseMillis : 0;
  }
}
