package dev.perdura.workflow;

/**
 * An activity a workflow started: wait for its result, or cancel it. Returned by
 * {@link Workflow#startActivity}; use it only from the workflow's own code.
 *
 * <pre>{@code
 * ActivityHandle<Void> handle = Workflow.startActivity("cancellable_activity", Void.class, options, input);
 * Workflow.sleep(Duration.ofSeconds(3));
 * handle.cancel();
 * }</pre>
 *
 * @param <R> the result type
 */
public interface ActivityHandle<R> {
  /**
   * Blocks the workflow until the activity ends and returns its result.
   *
   * @throws dev.perdura.failure.ActivityFailure the activity failed, timed out or was cancelled; the
   *     cause says which
   */
  R result();

  /** Whether the activity has ended (or the handle was resolved by a cancellation). */
  boolean isDone();

  /** Requests cancellation; what {@link #result()} then waits for depends on the cancellation type. */
  void cancel();
}
