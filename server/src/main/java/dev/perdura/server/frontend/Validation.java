package dev.perdura.server.frontend;

import com.google.protobuf.Duration;
import com.google.protobuf.util.Durations;
import dev.perdura.server.common.Errors;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.taskqueue.v1.TaskQueue;
import java.nio.charset.StandardCharsets;

/**
 * Field checks shared by the RPCs. Each failure is INVALID_ARGUMENT with a message that names the
 * field, and happens before anything is changed.
 */
final class Validation {
  static final int MAX_ID_BYTES = 1000;
  /** Priority levels of the matching queues; 0 means the default (the middle level). */
  static final int MAX_PRIORITY_KEY = 5;
  /** Longer than any sensible timeout (about 100 years), to catch absurd values. */
  static final long MAX_DURATION_SECONDS = 100L * 366 * 24 * 3600;

  private Validation() {}

  static void requireId(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw Errors.invalidArgument(field + " is not set");
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw Errors.invalidArgument(field + " exceeds " + MAX_ID_BYTES + " bytes");
    }
  }

  static void optionalId(String field, String value) {
    if (value != null && value.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw Errors.invalidArgument(field + " exceeds " + MAX_ID_BYTES + " bytes");
    }
  }

  static void requireTaskQueue(String field, boolean present, TaskQueue queue) {
    if (!present || queue.getName().isEmpty()) {
      throw Errors.invalidArgument(field + " is not set");
    }
    requireId(field + ".name", queue.getName());
  }

  /** A duration that may be unset (0) but not negative or absurd; returns millis. */
  static long duration(String field, boolean present, Duration duration) {
    if (!present) {
      return 0;
    }
    if (!Durations.isValid(duration)) {
      throw Errors.invalidArgument(field + " is not a valid duration");
    }
    if (Durations.isNegative(duration)) {
      throw Errors.invalidArgument(field + " must not be negative");
    }
    if (duration.getSeconds() > MAX_DURATION_SECONDS) {
      throw Errors.invalidArgument(field + " is too large");
    }
    return Durations.toMillis(duration);
  }

  static void retryPolicy(String field, boolean present, RetryPolicy policy) {
    if (!present) {
      return;
    }
    long initial = duration(field + ".initial_interval", policy.hasInitialInterval(), policy.getInitialInterval());
    long maximum = duration(field + ".maximum_interval", policy.hasMaximumInterval(), policy.getMaximumInterval());
    if (policy.getMaximumAttempts() < 0) {
      throw Errors.invalidArgument(field + ".maximum_attempts must not be negative");
    }
    if (policy.getMaximumAttempts() == 1) {
      return;
    }
    if (policy.getBackoffCoefficient() != 0 && policy.getBackoffCoefficient() < 1) {
      throw Errors.invalidArgument(field + ".backoff_coefficient must be at least 1");
    }
    if (maximum > 0 && maximum < initial) {
      throw Errors.invalidArgument(field + ".maximum_interval must not be less than initial_interval");
    }
  }

  static void priority(String field, boolean present, Priority priority) {
    if (!present) {
      return;
    }
    if (priority.getPriorityKey() < 0 || priority.getPriorityKey() > MAX_PRIORITY_KEY) {
      throw Errors.invalidArgument(field + ".priority_key must be in 0.." + MAX_PRIORITY_KEY);
    }
    if (priority.getFairnessKey().getBytes(StandardCharsets.UTF_8).length > 64) {
      throw Errors.invalidArgument(field + ".fairness_key must be at most 64 bytes");
    }
    if (priority.getFairnessWeight() < 0 || Float.isNaN(priority.getFairnessWeight())) {
      throw Errors.invalidArgument(field + ".fairness_weight must not be negative");
    }
  }
}
