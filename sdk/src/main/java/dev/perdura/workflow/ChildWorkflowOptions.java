package dev.perdura.workflow;

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
 */
public record ChildWorkflowOptions(
    String workflowId,
    String taskQueue,
    Duration executionTimeout,
    Duration runTimeout,
    ParentClosePolicy parentClosePolicy) {
  public static final ChildWorkflowOptions DEFAULTS =
      new ChildWorkflowOptions(null, null, null, null, ParentClosePolicy.TERMINATE);

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
    return new ChildWorkflowOptions(id, taskQueue, executionTimeout, runTimeout, parentClosePolicy);
  }

  public ChildWorkflowOptions withTaskQueue(String queue) {
    return new ChildWorkflowOptions(workflowId, queue, executionTimeout, runTimeout, parentClosePolicy);
  }

  public ChildWorkflowOptions withExecutionTimeout(Duration timeout) {
    return new ChildWorkflowOptions(workflowId, taskQueue, timeout, runTimeout, parentClosePolicy);
  }

  public ChildWorkflowOptions withRunTimeout(Duration timeout) {
    return new ChildWorkflowOptions(workflowId, taskQueue, executionTimeout, timeout, parentClosePolicy);
  }

  public ChildWorkflowOptions withParentClosePolicy(ParentClosePolicy policy) {
    return new ChildWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, policy);
  }
}
