package dev.perdura.failure;

/**
 * A workflow run ended without a result: it failed, was cancelled or terminated, or timed out.
 * {@link #closeStatus()} says which; the message and cause carry the failure the server recorded.
 */
public final class WorkflowFailedException extends RuntimeException {
  /** How a run ended without a result. */
  public enum CloseStatus { FAILED, CANCELED, TERMINATED, TIMED_OUT }

  private final String workflowId;
  private final String runId;
  private final CloseStatus closeStatus;

  public WorkflowFailedException(String workflowId, String runId, CloseStatus closeStatus, String message) {
    super("workflow " + workflowId + " (run " + runId + ") " + closeStatus.name().toLowerCase().replace('_', ' ')
        + (message == null || message.isEmpty() ? "" : ": " + message));
    this.workflowId = workflowId;
    this.runId = runId;
    this.closeStatus = closeStatus;
  }

  public String workflowId() {
    return workflowId;
  }

  public String runId() {
    return runId;
  }

  public CloseStatus closeStatus() {
    return closeStatus;
  }
}
