package dev.perdura.workflow;

import dev.perdura.common.RetryPolicy;
import java.time.Duration;

/**
 * How a workflow runs a local activity: in the workflow's own worker, without a round trip through a
 * task queue; the result is recorded in the history as a marker. Keep local activities shorter than the
 * workflow task timeout.
 *
 * @param startToCloseTimeout bound on one attempt
 * @param scheduleToCloseTimeout bound on all attempts, or null
 * @param retryPolicy null for the default: up to 3 attempts, 1 s apart then doubling
 */
public record LocalActivityOptions(Duration startToCloseTimeout, Duration scheduleToCloseTimeout, RetryPolicy retryPolicy) {
  public LocalActivityOptions {
    if (startToCloseTimeout == null || startToCloseTimeout.isNegative() || startToCloseTimeout.isZero()) {
      throw new IllegalArgumentException("startToCloseTimeout must be positive, was " + startToCloseTimeout);
    }
    if (scheduleToCloseTimeout != null && (scheduleToCloseTimeout.isNegative() || scheduleToCloseTimeout.isZero())) {
      throw new IllegalArgumentException("scheduleToCloseTimeout must be positive, was " + scheduleToCloseTimeout);
    }
    retryPolicy = retryPolicy == null ? RetryPolicy.maximumAttempts(3) : retryPolicy;
  }

  public static LocalActivityOptions startToClose(Duration timeout) {
    return new LocalActivityOptions(timeout, null, null);
  }

  public LocalActivityOptions withScheduleToCloseTimeout(Duration timeout) {
    return new LocalActivityOptions(startToCloseTimeout, timeout, retryPolicy);
  }

  public LocalActivityOptions withRetryPolicy(RetryPolicy policy) {
    return new LocalActivityOptions(startToCloseTimeout, scheduleToCloseTimeout, policy);
  }
}
