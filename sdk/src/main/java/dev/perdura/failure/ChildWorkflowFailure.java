package dev.perdura.failure;

/**
 * A child workflow a workflow ran did not produce a result. The cause says why: an {@link
 * ApplicationFailure} the child failed with, a {@link TimeoutFailure}, a {@link CanceledFailure},
 * or an {@link ApplicationFailure} of type {@value #TERMINATED} or {@value #ALREADY_STARTED}.
 */
public final class ChildWorkflowFailure extends RuntimeException {
  /** Cause type when the child was terminated. */
  public static final String TERMINATED = "Terminated";
  /** Cause type when the child could not start because its workflow id is in use. */
  public static final String ALREADY_STARTED = "WorkflowExecutionAlreadyStarted";

  private final String workflowType;
  private final String workflowId;

  public ChildWorkflowFailure(String workflowType, String workflowId, Throwable cause) {
    super("child workflow " + workflowType + " (" + workflowId + ") failed: " + (cause == null ? "" : cause.getMessage()),
        cause);
    this.workflowType = workflowType;
    this.workflowId = workflowId;
  }

  public String workflowType() {
    return workflowType;
  }

  public String workflowId() {
    return workflowId;
  }
}
