package dev.perdura.workflow;

import dev.perdura.common.Priority;
import dev.perdura.common.RetryPolicy;
import java.time.Duration;

/**
 * How a workflow runs an activity. At least one of start-to-close and schedule-to-close must be set.
 *
 * <pre>{@code
 * ActivityOptions options = ActivityOptions.startToClose(Duration.ofMinutes(5))
 *     .withHeartbeatTimeout(Duration.ofSeconds(30))
 *     .withCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED);
 * }</pre>
 *
 * @param taskQueue null for the workflow's own queue
 * @param retryPolicy null for the server's default policy
 */
public record ActivityOptions(
    String taskQueue,
    Duration scheduleToCloseTimeout,
    Duration scheduleToStartTimeout,
    Duration startToCloseTimeout,
    Duration heartbeatTimeout,
    RetryPolicy retryPolicy,
    Priority priority,
    ActivityCancellationType cancellationType) {

  public ActivityOptions {
    if (startToCloseTimeout == null && scheduleToCloseTimeout == null) {
      throw new IllegalArgumentException("set startToCloseTimeout or scheduleToCloseTimeout");
    }
    requirePositive("scheduleToCloseTimeout", scheduleToCloseTimeout);
    requirePositive("scheduleToStartTimeout", scheduleToStartTimeout);
    requirePositive("startToCloseTimeout", startToCloseTimeout);
    requirePositive("heartbeatTimeout", heartbeatTimeout);
    priority = priority == null ? Priority.DEFAULT : priority;
    cancellationType = cancellationType == null ? ActivityCancellationType.TRY_CANCEL : cancellationType;
  }

  private static void requirePositive(String name, Duration value) {
    if (value != null && (value.isNegative() || value.isZero())) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  public static ActivityOptions startToClose(Duration timeout) {
    return new ActivityOptions(null, null, null, timeout, null, null, null, null);
  }

  public static ActivityOptions scheduleToClose(Duration timeout) {
    return new ActivityOptions(null, timeout, null, null, null, null, null, null);
  }

  public ActivityOptions withTaskQueue(String queue) {
    return new ActivityOptions(queue, scheduleToCloseTimeout, scheduleToStartTimeout, startToCloseTimeout,
        heartbeatTimeout, retryPolicy, priority, cancellationType);
  }

  public ActivityOptions withScheduleToStartTimeout(Duration timeout) {
    return new ActivityOptions(taskQueue, scheduleToCloseTimeout, timeout, startToCloseTimeout, heartbeatTimeout,
        retryPolicy, priority, cancellationType);
  }

  public ActivityOptions withHeartbeatTimeout(Duration timeout) {
    return new ActivityOptions(taskQueue, scheduleToCloseTimeout, scheduleToStartTimeout, startToCloseTimeout,
        timeout, retryPolicy, priority, cancellationType);
  }

  public ActivityOptions withRetryPolicy(RetryPolicy policy) {
    return new ActivityOptions(taskQueue, scheduleToCloseTimeout, scheduleToStartTimeout, startToCloseTimeout,
        heartbeatTimeout, policy, priority, cancellationType);
  }

  public ActivityOptions withPriority(Priority value) {
    return new ActivityOptions(taskQueue, scheduleToCloseTimeout, scheduleToStartTimeout, startToCloseTimeout,
        heartbeatTimeout, retryPolicy, value, cancellationType);
  }

  public ActivityOptions withCancellationType(ActivityCancellationType type) {
    return new ActivityOptions(taskQueue, scheduleToCloseTimeout, scheduleToStartTimeout, startToCloseTimeout,
        heartbeatTimeout, retryPolicy, priority, type);
  }
}
