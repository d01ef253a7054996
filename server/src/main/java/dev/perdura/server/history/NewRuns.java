package dev.perdura.server.history;

import com.google.protobuf.Duration;
import com.google.protobuf.util.Durations;
import io.temporal.api.enums.v1.ContinueAsNewInitiator;
import io.temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import java.util.UUID;

/** Builds {@link NewRun}s from client requests (already validated by the frontend). */
public final class NewRuns {
  private NewRuns() {}

  private static long millis(boolean present, Duration duration) {
    return present ? Durations.toMillis(duration) : 0;
  }

  /**
   * A workflow retry policy as a run keeps it: Temporal's defaults filled in; an invalid one fails
   * the workflow task with {@code cause}, the message naming the field.
   */
  static io.temporal.api.common.v1.RetryPolicy workflowRetryPolicy(
      io.temporal.api.enums.v1.WorkflowTaskFailedCause cause, String prefix,
      io.temporal.api.common.v1.RetryPolicy given) {
    try {
      return ActivityRetries.withDefaults(given);
    } catch (BadCommandException e) {
      throw new BadCommandException(cause, prefix + e.getMessage());
    }
  }

  /**
   * A start request's retry policy with Temporal's defaults filled in; a policy that is only wrong
   * once defaulted (a maximum interval below the default initial one, an unknown timeout type) is
   * INVALID_ARGUMENT naming the field, like the frontend's own checks.
   */
  private static io.temporal.api.common.v1.RetryPolicy startRetryPolicy(boolean present,
      io.temporal.api.common.v1.RetryPolicy given) {
    if (!present) {
      return null;
    }
    try {
      return ActivityRetries.withDefaults(given);
    } catch (BadCommandException e) {
      throw dev.perdura.server.common.Errors.invalidArgument(e.getMessage());
    }
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
        startRetryPolicy(r.hasRetryPolicy(), r.getRetryPolicy()),
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
        startRetryPolicy(r.hasRetryPolicy(), r.getRetryPolicy()),
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
