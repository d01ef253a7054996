package dev.perdura.workflow;

import dev.perdura.common.RetryPolicy;
import java.time.Duration;

/**
 * How a workflow starts a child workflow.
 *
 * <pre>{@code
 * ChildWorkflowOptions options = ChildWorkflowOptions.DEFAULTS
 *     .withWorkflowId("invoice-" + orderId)
 *     .withParentClosePolicy(ParentClosePolicy.ABANDON);
 * }</pre>
 *
 * @param workflowId null for one made from the parent's id and a replay-safe random part
 * @param taskQueue null for the parent's own queue
 * @param executionTimeout null for none
 * @param runTimeout null for none
 * @param parentClosePolicy what becomes of the child when the parent closes first
 * @param retryPolicy when set, a failed run of the child is retried by the server as a new run (the
 *     parent hears of the last one); null for none
 */
public record ChildWorkflowOptions(
    String workflowId,
    String taskQueue,
    Duration executionTimeout,
    Duration runTimeout,
    ParentClosePolicy parentClosePolicy,
    RetryPolicy retryPolicy) {
  public static final ChildWorkflowOptions DEFAULTS =
      new ChildWorkflowOptions(null, null, null, null, ParentClosePolicy.TERMINATE, null);

  public ChildWorkflowOptions {
    if (workflowId != null && workflowId.isBlank()) {
      throw new IllegalArgumentException("workflowId must not be blank");
    }
    requirePositive("executionTimeout", executionTimeout);
    requirePositive("runTimeout", runTimeout);
    parentClosePolicy = parentClosePolicy == null ? ParentClosePolicy.TERMINATE : parentClosePolicy;
  }

  private static void requirePositive(String name, Duration value) {
    if (value != null && (value.isNegative() || value.isZero())) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  public ChildWorkflowOptions withWorkflowId(String id) {
    return new ChildWorkflowOptions(id, taskQueue, executionTimeout, runTimeout, parentClosePolicy, retryPolicy);
  }

  public ChildWorkflowOptions withTaskQueue(String queue) {
    return new ChildWorkflowOptions(workflowId, queue, executionTimeout, runTimeout, parentClosePolicy, retryPolicy);
  }

  public ChildWorkflowOptions withExecutionTimeout(Duration timeout) {
    return new ChildWorkflowOptions(workflowId, taskQueue, timeout, runTimeout, parentClosePolicy, retryPolicy);
  }

  public ChildWorkflowOptions withRunTimeout(Duration timeout) {
    return new ChildWorkflowOptions(workflowId, taskQueue, executionTimeout, timeout, parentClosePolicy, retryPolicy);
  }

  public ChildWorkflowOptions withParentClosePolicy(ParentClosePolicy policy) {
    return new ChildWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, policy, retryPolicy);
  }

  /** When set, the child is retried by the server as a new run when it fails; the parent hears of the last run. */
  public ChildWorkflowOptions withRetryPolicy(RetryPolicy policy) {
    return new ChildWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, parentClosePolicy, policy);
  }
}
