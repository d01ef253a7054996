package dev.perdura.client;

import dev.perdura.common.Priority;
import dev.perdura.common.RetryPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start a workflow run.
 *
 * @param workflowId business id of the workflow (required)
 * @param taskQueue queue its workflow tasks go to (required)
 * @param executionTimeout bound on the whole chain of runs, or null for none
 * @param runTimeout bound on one run, or null for none
 * @param priority dispatch priority, inherited by its activities
 * @param taskTimeout bound on one workflow task, or null for the server's default (10 s)
 * @param retryPolicy when set, a run that fails or exceeds its run timeout is retried by the server as a
 *     new run of the same workflow id ({@link WorkflowHandle#result} follows to the last one); null for none
 */
public record StartWorkflowOptions(
    String workflowId, String taskQueue, Duration executionTimeout, Duration runTimeout, Priority priority,
    Duration taskTimeout, RetryPolicy retryPolicy) {
  public StartWorkflowOptions {
    Objects.requireNonNull(workflowId, "workflowId");
    Objects.requireNonNull(taskQueue, "taskQueue");
    if (workflowId.isBlank()) {
      throw new IllegalArgumentException("workflowId must not be blank");
    }
    if (taskQueue.isBlank()) {
      throw new IllegalArgumentException("taskQueue must not be blank");
    }
    requirePositive("executionTimeout", executionTimeout);
    requirePositive("runTimeout", runTimeout);
    requirePositive("taskTimeout", taskTimeout);
    priority = priority == null ? Priority.DEFAULT : priority;
  }

  private static void requirePositive(String name, Duration value) {
    if (value != null && (value.isNegative() || value.isZero())) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  public static StartWorkflowOptions of(String workflowId, String taskQueue) {
    return new StartWorkflowOptions(workflowId, taskQueue, null, null, null, null, null);
  }

  public StartWorkflowOptions withExecutionTimeout(Duration timeout) {
    return new StartWorkflowOptions(workflowId, taskQueue, timeout, runTimeout, priority, taskTimeout, retryPolicy);
  }

  public StartWorkflowOptions withRunTimeout(Duration timeout) {
    return new StartWorkflowOptions(workflowId, taskQueue, executionTimeout, timeout, priority, taskTimeout, retryPolicy);
  }

  public StartWorkflowOptions withTaskTimeout(Duration timeout) {
    return new StartWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, priority, timeout, retryPolicy);
  }

  public StartWorkflowOptions withRetryPolicy(RetryPolicy policy) {
    return new StartWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, priority, taskTimeout, policy);
  }

  public StartWorkflowOptions withPriority(Priority priority) {
    return new StartWorkflowOptions(workflowId, taskQueue, executionTimeout, runTimeout, priority, taskTimeout, retryPolicy);
  }
}
