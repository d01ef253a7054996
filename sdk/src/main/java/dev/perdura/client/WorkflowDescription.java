package dev.perdura.client;

import java.time.Instant;
import java.util.Optional;

/**
 * What the server reports about one workflow run.
 *
 * @param closeTime empty while the run is open
 */
public record WorkflowDescription(
    String workflowId,
    String runId,
    String workflowType,
    String taskQueue,
    WorkflowStatus status,
    Instant startTime,
    Optional<Instant> closeTime,
    long historyLength,
    int pendingActivities) {

  /** The life-cycle state of a run. */
  public enum WorkflowStatus { RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW, TIMED_OUT }
}
