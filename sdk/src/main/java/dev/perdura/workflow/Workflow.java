package dev.perdura.workflow;

import dev.perdura.internal.workflow.WorkflowRun;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * What workflow code uses instead of the JDK where the JDK would break replay: time, sleeping,
 * waiting, randomness; and how it runs activities. Every method works only inside workflow code.
 *
 * <pre>{@code
 * @WorkflowMethod
 * public String run(ComposeArgs input) {
 *   ActivityHandle<Void> handle = Workflow.startActivity("cancellable_activity", Void.class,
 *       ActivityOptions.startToClose(Duration.ofMinutes(5)).withHeartbeatTimeout(Duration.ofSeconds(30)), input);
 *   Workflow.sleep(Duration.ofSeconds(3));
 *   handle.cancel();
 *   return "cancelled";
 * }
 * }</pre>
 */
public final class Workflow {
  private Workflow() {}

  public static WorkflowInfo info() {
    return WorkflowRun.current().info();
  }

  /** The workflow's clock: the time its current workflow task started; the same on every replay. */
  public static Instant now() {
    return WorkflowRun.current().now();
  }

  /**
   * Sleeps on a durable timer: survives worker and server restarts.
   *
   * @throws dev.perdura.failure.CanceledFailure the current {@link CancellationScope} was cancelled
   *     (the timer is cancelled too)
   */
  public static void sleep(Duration duration) {
    WorkflowRun.current().sleep(duration);
  }

  /**
   * Blocks until the condition, which must read only workflow state, holds.
   *
   * @throws dev.perdura.failure.CanceledFailure the current {@link CancellationScope} was cancelled
   *     before the condition held
   */
  public static void await(BooleanSupplier condition) {
    WorkflowRun.current().await(condition);
  }

  /**
   * Whether cancellation of this workflow has been requested. The request also cancels the
   * workflow's root {@link CancellationScope}; cleanup runs in a detached scope.
   */
  public static boolean isCancelRequested() {
    return WorkflowRun.current().isCancelRequested();
  }

  /**
   * A scope for {@code body}, a child of the current scope: cancelled with it, or alone by {@link
   * CancellationScope#cancel()}. The body runs when {@link CancellationScope#run()} is called.
   */
  public static CancellationScope newCancellationScope(Runnable body) {
    return WorkflowRun.current().newCancellationScope(body, false);
  }

  /**
   * A scope for {@code body} that the current scope's cancellation does not reach: for cleanup
   * after the workflow was cancelled, such as an activity that undoes what was done.
   */
  public static CancellationScope newDetachedCancellationScope(Runnable body) {
    return WorkflowRun.current().newCancellationScope(body, true);
  }

  /** The scope the calling workflow code runs in (the workflow's root scope outside any other). */
  public static CancellationScope currentCancellationScope() {
    return WorkflowRun.current().currentCancellationScope();
  }

  /**
   * Starts a child workflow by type name and returns its handle at once. The child runs on its own
   * (on its task queue, by any worker that has its type); the parent hears when it starts and ends.
   */
  public static <R> ChildWorkflowHandle<R> startChildWorkflow(String workflowType, Class<R> resultType,
      ChildWorkflowOptions options, Object... args) {
    return WorkflowRun.current().startChildWorkflow(workflowType, resultType, options, args);
  }

  /**
   * Runs a child workflow and returns its result.
   *
   * @throws dev.perdura.failure.ChildWorkflowFailure it failed, timed out, was cancelled or terminated,
   *     or could not start
   */
  public static <R> R executeChildWorkflow(String workflowType, Class<R> resultType, ChildWorkflowOptions options,
      Object... args) {
    return startChildWorkflow(workflowType, resultType, options, args).result();
  }

  /**
   * Signals another workflow (its current run) and blocks until the server has delivered the signal.
   *
   * @throws dev.perdura.failure.ApplicationFailure of type {@value #EXTERNAL_WORKFLOW_NOT_FOUND} when no
   *     workflow with that id is running
   */
  public static void signalExternalWorkflow(String workflowId, String signalName, Object... args) {
    WorkflowRun.current().signalExternalWorkflow(workflowId, null, signalName, args);
  }

  /** Failure type of {@link #signalExternalWorkflow} when the target is not running. */
  public static final String EXTERNAL_WORKFLOW_NOT_FOUND = WorkflowRun.EXTERNAL_WORKFLOW_NOT_FOUND;

  /** A random UUID that replays identically. */
  public static UUID randomUUID() {
    var random = WorkflowRun.current().random();
    return new UUID(random.nextLong(), random.nextLong());
  }

  /** Starts an activity by type name and returns its handle at once. */
  public static <R> ActivityHandle<R> startActivity(String activityType, Class<R> resultType, ActivityOptions options,
      Object... args) {
    return WorkflowRun.current().startActivity(activityType, resultType, options, args);
  }

  /**
   * Runs an activity and waits for its result.
   *
   * @throws dev.perdura.failure.ActivityFailure the activity failed, timed out or was cancelled
   */
  public static <R> R executeActivity(String activityType, Class<R> resultType, ActivityOptions options,
      Object... args) {
    return startActivity(activityType, resultType, options, args).result();
  }

  /**
   * Starts a local activity: it runs in this worker, its outcome is recorded as a marker, and cancelling
   * the handle cancels it directly, without heartbeats.
   */
  public static <R> ActivityHandle<R> startLocalActivity(String activityType, Class<R> resultType,
      LocalActivityOptions options, Object... args) {
    return WorkflowRun.current().startLocalActivity(activityType, resultType, options, args);
  }

  /** Runs a local activity and waits for its result. */
  public static <R> R executeLocalActivity(String activityType, Class<R> resultType, LocalActivityOptions options,
      Object... args) {
    return startLocalActivity(activityType, resultType, options, args).result();
  }

  /**
   * Runs a non-deterministic piece of code (a random number, a UUID from elsewhere) once and records its
   * result in the history; a replay returns the recorded result without running it.
   */
  public static <R> R sideEffect(Class<R> resultType, java.util.function.Supplier<R> supplier) {
    return WorkflowRun.current().sideEffect(resultType, supplier);
  }

  /** What {@link #getVersion} returns for a run that started before the change. */
  public static final int DEFAULT_VERSION = WorkflowRun.DEFAULT_VERSION;

  /**
   * Lets changed workflow code keep replaying histories made by the old code: new runs get
   * {@code maxSupported} (recorded in their history); runs whose history predates the change get
   * {@link #DEFAULT_VERSION}; branch on the answer.
   *
   * <pre>{@code
   * if (Workflow.getVersion("add-fraud-check", Workflow.DEFAULT_VERSION, 1) == 1) {
   *   Workflow.executeActivity("fraudCheck", Boolean.class, options, order);
   * }
   * }</pre>
   */
  public static int getVersion(String changeId, int minSupported, int maxSupported) {
    return WorkflowRun.current().getVersion(changeId, minSupported, maxSupported);
  }

  /**
   * Ends this run and starts a new run of the same workflow, with these arguments and an empty history.
   * Does not return.
   */
  public static RuntimeException continueAsNew(Object... args) {
    WorkflowRun.current();
    throw new WorkflowRun.ContinueAsNew(args);
  }

  /** Whether the calling thread runs workflow code. */
  public static boolean inWorkflow() {
    return WorkflowRun.inWorkflow();
  }
}
