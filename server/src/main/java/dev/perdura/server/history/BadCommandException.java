package dev.perdura.server.history;

import io.temporal.api.enums.v1.WorkflowTaskFailedCause;

/** A command of a workflow task completion is invalid; the task fails with {@link #cause()}. */
final class BadCommandException extends RuntimeException {
  private final WorkflowTaskFailedCause cause;

  BadCommandException(WorkflowTaskFailedCause cause, String message) {
    super(message, null, false, false);
    this.cause = cause;
  }

  WorkflowTaskFailedCause cause() {
    return cause;
  }
}
