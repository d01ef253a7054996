package dev.perdura.activity;

import dev.perdura.common.Priority;
import dev.perdura.common.RawValue;
import dev.perdura.converter.PayloadConverter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the running activity knows about itself; see {@link Activity#info()}.
 *
 * @param activityId id of the activity within its workflow
 * @param activityType type name the activity was scheduled with
 * @param attempt 1 for the first attempt, growing with each retry
 * @param currentAttemptScheduledTime when this attempt was scheduled
 * @param heartbeatDetails details of the last heartbeat of an earlier attempt, still encoded
 * @param heartbeatTimeout empty when the activity has none
 * @param local whether this is a local activity
 * @param scheduleToCloseTimeout empty when unbounded
 * @param scheduledTime when the first attempt was scheduled
 * @param startToCloseTimeout empty when unbounded
 * @param startedTime when this attempt started
 * @param taskQueue the queue the activity was dispatched from
 * @param namespace the activity's namespace
 * @param workflowId empty for an activity started without a workflow
 * @param workflowRunId empty for an activity started without a workflow
 * @param workflowType empty for an activity started without a workflow
 * @param priority the activity's priority (inherited from its workflow unless it set its own)
 * @param activityRunId the run id of an activity started on its own, without a workflow; empty otherwise
 */
public record ActivityInfo(
    String activityId,
    String activityType,
    int attempt,
    Instant currentAttemptScheduledTime,
    List<RawValue> heartbeatDetails,
    Optional<Duration> heartbeatTimeout,
    boolean local,
    Optional<Duration> scheduleToCloseTimeout,
    Instant scheduledTime,
    Optional<Duration> startToCloseTimeout,
    Instant startedTime,
    String taskQueue,
    byte[] taskToken,
    String namespace,
    Optional<String> workflowId,
    Optional<String> workflowRunId,
    Optional<String> workflowType,
    Priority priority,
    Optional<String> activityRunId) {

  public ActivityInfo {
    heartbeatDetails = List.copyOf(heartbeatDetails);
    taskToken = taskToken.clone();
  }

  /** The task token, for completing the activity from elsewhere; a copy. */
  @Override
  public byte[] taskToken() {
    return taskToken.clone();
  }

  /** The namespace of the workflow that scheduled the activity (the seed's {@code workflow_namespace}). */
  public String workflowNamespace() {
    return namespace;
  }

  /** The first heartbeat detail of the earlier attempt, decoded; empty when there is none. */
  public <T> Optional<T> heartbeatDetail(Class<T> type, PayloadConverter converter) {
    return heartbeatDetails.isEmpty()
        ? Optional.empty()
        : Optional.ofNullable(converter.fromPayload(heartbeatDetails.getFirst().payload(), type));
  }

  @Override
  public String toString() {
    return "ActivityInfo[" + activityType + " " + activityId + ", attempt " + attempt
        + workflowId.map(id -> ", workflow " + id).orElse("") + ", queue " + taskQueue + "]";
  }
}
