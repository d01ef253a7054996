package dev.perdura.server.history;

import io.temporal.api.common.v1.Header;
import io.temporal.api.common.v1.Memo;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.common.v1.SearchAttributes;
import io.temporal.api.enums.v1.ContinueAsNewInitiator;
import io.temporal.api.failure.v1.Failure;

/**
 * What a new run starts with, whoever starts it (a client's start, signal-with-start, or
 * continue-as-new). Timeouts are as requested; {@link Runs#startRun} derives the effective ones.
 *
 * @param firstRunId the chain's first run, empty for a fresh chain
 * @param executionDeadline carried over by continue-as-new, 0 to compute from the timeout
 * @param parent the parent of a child workflow (carried over by continue-as-new), else null
 */
public record NewRun(
    String namespace,
    String workflowId,
    String workflowType,
    String taskQueue,
    Payloads input,
    long executionTimeoutMillis,
    long runTimeoutMillis,
    long taskTimeoutMillis,
    String identity,
    String requestId,
    RetryPolicy retryPolicy,
    Memo memo,
    SearchAttributes searchAttributes,
    Header header,
    Priority priority,
    long startDelayMillis,
    String continuedFromRunId,
    String firstRunId,
    long executionDeadline,
    ContinueAsNewInitiator initiator,
    Failure continuedFailure,
    Payloads lastCompletionResult,
    int attempt,
    ParentLink parent) {

  /** The workflow whose child this run is, null for a top-level workflow. */
  public record ParentLink(String namespace, String workflowId, String runId, long initiatedEventId) {}
}
