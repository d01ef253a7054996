package dev.perdura.server.history;

import com.google.protobuf.util.Durations;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.failure.v1.Failure;

/** Retry policy defaults, validation, and the decision whether a failed attempt is retried. */
final class ActivityRetries {
  private ActivityRetries() {}

  /** The delay of a retry that waits for an unpause rather than for time. */
  static final long PAUSED_DELAY = -1;

  /** Whether to retry, and after how long. */
  record Decision(RetryState state, long delayMillis) {
    boolean retry() {
      return state == RetryState.RETRY_STATE_IN_PROGRESS;
    }
  }

  /** Fills unset fields with Temporal's defaults and validates the result. */
  static RetryPolicy withDefaults(RetryPolicy given) {
    RetryPolicy.Builder policy = given == null ? RetryPolicy.newBuilder() : given.toBuilder();
    // Checked before any conversion, which would throw an unchecked error on them.
    if (policy.hasInitialInterval() && !Durations.isValid(policy.getInitialInterval())) {
      throw bad("retry_policy.initial_interval is not a valid duration");
    }
    if (policy.hasMaximumInterval() && !Durations.isValid(policy.getMaximumInterval())) {
      throw bad("retry_policy.maximum_interval is not a valid duration");
    }
    if (Protos.millis(policy.getInitialInterval()) < 0) {
      throw bad("retry_policy.initial_interval must not be negative");
    }
    if (!policy.hasInitialInterval() || Protos.millis(policy.getInitialInterval()) == 0) {
      policy.setInitialInterval(Protos.duration(1000));
    }
    if (policy.getBackoffCoefficient() == 0) {
      policy.setBackoffCoefficient(2.0);
    }
    if (!policy.hasMaximumInterval() || Protos.millis(policy.getMaximumInterval()) == 0) {
      policy.setMaximumInterval(Protos.duration(100 * Protos.millis(policy.getInitialInterval())));
    }
    if (policy.getMaximumAttempts() == 1) {
      return policy.build(); // retries disabled: the other fields do not matter
    }
    if (policy.getMaximumAttempts() < 0) {
      throw bad("retry_policy.maximum_attempts must not be negative");
    }
    if (policy.getBackoffCoefficient() < 1) {
      throw bad("retry_policy.backoff_coefficient must be at least 1");
    }
    if (Protos.millis(policy.getMaximumInterval()) < Protos.millis(policy.getInitialInterval())) {
      throw bad("retry_policy.maximum_interval must not be less than initial_interval");
    }
    for (String type : policy.getNonRetryableErrorTypesList()) {
      if (type.startsWith("TemporalTimeout:") && timeoutTypeNamed(type.substring(16)) == null) {
        throw bad("retry_policy.non_retryable_error_types: unknown timeout type in " + type);
      }
    }
    return policy.build();
  }

  private static BadCommandException bad(String message) {
    return new BadCommandException(
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, message);
  }

  static String timeoutName(TimeoutType type) {
    return switch (type) {
      case TIMEOUT_TYPE_START_TO_CLOSE -> "StartToClose";
      case TIMEOUT_TYPE_SCHEDULE_TO_START -> "ScheduleToStart";
      case TIMEOUT_TYPE_SCHEDULE_TO_CLOSE -> "ScheduleToClose";
      case TIMEOUT_TYPE_HEARTBEAT -> "Heartbeat";
      default -> "Unspecified";
    };
  }

  private static TimeoutType timeoutTypeNamed(String name) {
    for (TimeoutType type :
        new TimeoutType[] {
          TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
          TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
          TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
          TimeoutType.TIMEOUT_TYPE_HEARTBEAT
        }) {
      if (timeoutName(type).equals(name)) {
        return type;
      }
    }
    return null;
  }

  /**
   * Decides what follows a failed or timed-out attempt, in the server's order: cancel requested,
   * a timeout that is final by nature, a non-retryable failure, attempts used up, then the
   * backoff, which must fit before schedule-to-close.
   */
  static Decision decide(ActivityInfo activity, Failure failure, TimeoutType timeout, long now) {
    if (activity.cancelRequested) {
      return new Decision(RetryState.RETRY_STATE_CANCEL_REQUESTED, 0);
    }
    if (timeout == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
        || timeout == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) {
      return new Decision(RetryState.RETRY_STATE_TIMEOUT, 0);
    }
    RetryPolicy policy = Protos.parse(RetryPolicy.parser(), activity.retryPolicy, RetryPolicy.getDefaultInstance());
    if (!isRetryable(policy, failure, timeout)) {
      return new Decision(RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE, 0);
    }
    if (activity.paused) {
      // A paused activity keeps its failed attempt but waits for an unpause instead of a timer.
      return new Decision(RetryState.RETRY_STATE_IN_PROGRESS, PAUSED_DELAY);
    }
    return attemptsAndBackoff(policy, activity.attempt, failure, activity.expirationTime(), now);
  }

  /**
   * Decides whether a failed workflow run is retried as a new run: the same rules as for an
   * activity attempt, with the execution deadline as expiration. No policy, no retry.
   */
  static Decision decideRun(byte[] encodedPolicy, int attempt, Failure failure, TimeoutType timeout,
      long executionDeadline, long now) {
    if (encodedPolicy == null) {
      return new Decision(RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET, 0);
    }
    RetryPolicy policy = Protos.parse(RetryPolicy.parser(), encodedPolicy, RetryPolicy.getDefaultInstance());
    if (!isRetryable(policy, failure, timeout)) {
      return new Decision(RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE, 0);
    }
    return attemptsAndBackoff(policy, attempt, failure, executionDeadline, now);
  }

  private static Decision attemptsAndBackoff(RetryPolicy policy, int attempt, Failure failure, long expiration,
      long now) {
    if (policy.getMaximumAttempts() > 0 && attempt >= policy.getMaximumAttempts()) {
      return new Decision(RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, 0);
    }
    long delay;
    if (failure != null
        && failure.hasApplicationFailureInfo()
        && failure.getApplicationFailureInfo().hasNextRetryDelay()) {
      delay = Protos.millis(failure.getApplicationFailureInfo().getNextRetryDelay());
    } else {
      double exponential =
          Protos.millis(policy.getInitialInterval())
              * Math.pow(policy.getBackoffCoefficient(), attempt - 1);
      delay = (long) Math.min(exponential, (double) Protos.millis(policy.getMaximumInterval()));
    }
    if (expiration > 0 && now + delay >= expiration) {
      return new Decision(RetryState.RETRY_STATE_TIMEOUT, 0);
    }
    return new Decision(RetryState.RETRY_STATE_IN_PROGRESS, Math.max(0, delay));
  }

  private static boolean isRetryable(RetryPolicy policy, Failure failure, TimeoutType timeout) {
    if (policy.getMaximumAttempts() == 1) {
      return true; // the attempts check reports it as MAXIMUM_ATTEMPTS_REACHED
    }
    if (timeout != null) {
      return !policy.getNonRetryableErrorTypesList().contains("TemporalTimeout:" + timeoutName(timeout));
    }
    if (failure == null) {
      return true;
    }
    if (failure.hasApplicationFailureInfo()) {
      var info = failure.getApplicationFailureInfo();
      return !info.getNonRetryable() && !policy.getNonRetryableErrorTypesList().contains(info.getType());
    }
    if (failure.hasCanceledFailureInfo() || failure.hasTerminatedFailureInfo()) {
      return false;
    }
    if (failure.hasServerFailureInfo()) {
      return !failure.getServerFailureInfo().getNonRetryable();
    }
    return true;
  }
}
