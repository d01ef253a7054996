package dev.perdura.workflow;

/**
 * A child workflow a workflow started: wait for it to start or to end. Returned by {@link
 * Workflow#startChildWorkflow}; use it only from the workflow's own code.
 *
 * <pre>{@code
 * ChildWorkflowHandle<String> invoice = Workflow.startChildWorkflow("Invoice", String.class,
 *     ChildWorkflowOptions.DEFAULTS.withWorkflowId("invoice-" + orderId), orderId);
 * String runId = invoice.awaitStarted();
 * return invoice.result();
 * }</pre>
 *
 * @param <R> the result type
 */
public interface ChildWorkflowHandle<R> {
  /** The child's workflow id. */
  String workflowId();

  /**
   * Blocks the workflow until the child has started and returns its run id.
   *
   * @throws dev.perdura.failure.ChildWorkflowFailure it could not start (its id is in use)
   */
  String awaitStarted();

  /**
   * Blocks the workflow until the child ends and returns its result.
   *
   * @throws dev.perdura.failure.ChildWorkflowFailure the child failed, timed out, was cancelled or
   *     terminated, or could not start; the cause says which
   */
  R result();

  /** Whether the child has ended (or could not start). */
  boolean isDone();

  /**
   * Asks the server to cancel the child (a start not sent yet is taken back). The child decides how to
   * end; {@link #result()} tells how it did. Cancelling the scope the child was started in does this.
   */
  void cancel();
}
