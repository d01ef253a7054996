package dev.perdura.server.history;

import io.temporal.api.enums.v1.WorkflowExecutionStatus;

/** Workflow status numbers as stored (the {@code WorkflowExecutionStatus} enum values). */
final class Statuses {
  static final int RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING_VALUE;
  static final int COMPLETED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED_VALUE;
  static final int FAILED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED_VALUE;
  static final int CANCELED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED_VALUE;
  static final int TERMINATED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED_VALUE;
  static final int CONTINUED_AS_NEW =
      WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW_VALUE;
  static final int TIMED_OUT = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT_VALUE;

  private Statuses() {}
}
