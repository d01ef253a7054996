package dev.perdura.server.history;

import com.google.protobuf.Duration;
import com.google.protobuf.util.Durations;
import io.temporal.api.enums.v1.ContinueAsNewInitiator;
import io.temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import java.util.UUID;

/** Builds {@link NewRun}s from client requests (already validated by the frontend). */
public final class NewRuns {
  /**
   * Why a run's retry_policy is refused, wherever a run can be given one (start, signal-with-start,
   * child workflow, continue-as-new): retrying failed runs is not built yet, and a policy silently
   * ignored would be worse than none.
   */
  public static final String WORKFLOW_RETRY_UNSUPPORTED =
      "retry_policy: retrying workflow runs is not supported by this server yet (activity retry policies are)";

  private NewRuns() {}

  private static long millis(boolean present, Duration duration) {
    return present ? Durations.toMillis(duration) : 0;
  }

  public static NewRun fromStart(StartWorkflowExecutionRequest r) {
    return new NewRun(
        r.getNamespace(),
        r.getWorkflowId(),
        r.getWorkflowType().getName(),
        r.getTaskQueue().getName(),
        r.hasInput() ? r.getInput() : null,
        millis(r.hasWorkflowExecutionTimeout(), r.getWorkflowExecutionTimeout()),
        millis(r.hasWorkflowRunTimeout(), r.getWorkflowRunTimeout()),
        millis(r.hasWorkflowTaskTimeout(), r.getWorkflowTaskTimeout()),
        r.getIdentity(),
        r.getRequestId().isEmpty() ? UUID.randomUUID().toString() : r.getRequestId(),
        r.hasRetryPolicy() ? r.getRetryPolicy() : null,
        r.hasMemo() ? r.getMemo() : null,
        r.hasSearchAttributes() ? r.getSearchAttributes() : null,
        r.hasHeader() ? r.getHeader() : null,
        r.hasPriority() ? r.getPriority() : null,
        millis(r.hasWorkflowStartDelay(), r.getWorkflowStartDelay()),
        "",
        "",
        0,
        ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED,
        r.hasContinuedFailure() ? r.getContinuedFailure() : null,
        r.hasLastCompletionResult() ? r.getLastCompletionResult() : null,
        1,
        null);
  }

  public static NewRun fromSignalWithStart(SignalWithStartWorkflowExecutionRequest r) {
    return new NewRun(
        r.getNamespace(),
        r.getWorkflowId(),
        r.getWorkflowType().getName(),
        r.getTaskQueue().getName(),
        r.hasInput() ? r.getInput() : null,
        millis(r.hasWorkflowExecutionTimeout(), r.getWorkflowExecutionTimeout()),
        millis(r.hasWorkflowRunTimeout(), r.getWorkflowRunTimeout()),
        millis(r.hasWorkflowTaskTimeout(), r.getWorkflowTaskTimeout()),
        r.getIdentity(),
        r.getRequestId().isEmpty() ? UUID.randomUUID().toString() : r.getRequestId(),
        r.hasRetryPolicy() ? r.getRetryPolicy() : null,
        r.hasMemo() ? r.getMemo() : null,
        r.hasSearchAttributes() ? r.getSearchAttributes() : null,
        r.hasHeader() ? r.getHeader() : null,
        r.hasPriority() ? r.getPriority() : null,
        millis(r.hasWorkflowStartDelay(), r.getWorkflowStartDelay()),
        "",
        "",
        0,
        ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED,
        null,
        null,
        1,
        null);
  }
}
