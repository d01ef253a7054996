package dev.perdura.workflow;

/**
 * A region of workflow code whose activities, timers and waits are cancelled together.
 *
 * <p>Every workflow runs in a root scope that a cancellation request for the workflow cancels.
 * Cancelling a scope cancels what was started in it and in its child scopes and not finished yet:
 * activity handles are cancelled according to their {@link ActivityCancellationType}, a {@link
 * Workflow#sleep} in progress cancels its timer and throws {@link
 * dev.perdura.failure.CanceledFailure}, as does a {@link Workflow#await} in progress; whatever is
 * started in a scope after it was cancelled is cancelled at once. A <em>detached</em> scope is not
 * cancelled with its parent: it is where cleanup runs once the workflow has been cancelled.
 *
 * <pre>{@code
 * try {
 *   Workflow.executeActivity("charge", String.class, options, order);
 * } catch (ActivityFailure | CanceledFailure e) {
 *   if (Workflow.isCancelRequested()) {
 *     // The workflow's scope is cancelled; cleanup must run in one that is not.
 *     Workflow.newDetachedCancellationScope(
 *         () -> Workflow.executeActivity("refund", Void.class, options, order)).run();
 *   }
 *   throw e;
 * }
 *
 * List<ActivityHandle<String>> racers = new ArrayList<>();
 * CancellationScope race = Workflow.newCancellationScope(() -> {
 *   racers.add(Workflow.startActivity("fast", String.class, options));
 *   racers.add(Workflow.startActivity("slow", String.class, options));
 * });
 * race.run();
 * Workflow.await(() -> racers.stream().anyMatch(ActivityHandle::isDone));
 * race.cancel(); // the loser is cancelled
 * }</pre>
 *
 * <p>Instances come from {@link Workflow}; this interface is not meant to be implemented. A scope
 * belongs to its workflow run and works only inside its workflow code.
 */
public interface CancellationScope {
  /**
   * Runs the scope's body on the calling workflow thread, with this scope as the current one.
   *
   * @throws IllegalStateException the scope has already run
   */
  void run();

  /** Cancels the scope and its non-detached children; does nothing the second time. */
  void cancel();

  /** Whether this scope has been cancelled (directly or through a parent). */
  boolean isCancelRequested();

  /** Whether this scope ignores its parent's cancellation. */
  boolean isDetached();
}
