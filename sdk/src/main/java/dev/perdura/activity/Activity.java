package dev.perdura.activity;

import dev.perdura.client.PerduraClient;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.internal.activity.ActivityExecution;
import dev.perdura.metrics.MetricMeter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;

/**
 * What an activity can ask about and do while it runs. Every method works on the activity of the
 * calling thread (and of threads it starts) and throws {@link IllegalStateException} outside one,
 * except {@link #inActivity()}.
 *
 * <pre>{@code
 * @ActivityMethod
 * public String process(List<String> items) {
 *   for (int i = 0; i < items.size(); i++) {
 *     handle(items.get(i));
 *     Activity.heartbeat(i + 1);          // throws ActivityCanceledException once cancelled
 *   }
 *   return "processed " + items.size() + " in attempt " + Activity.info().attempt();
 * }
 * }</pre>
 *
 * <h2>Cancellation</h2>
 * An activity learns that it is cancelled through its heartbeats (so it needs a heartbeat timeout and
 * must call {@link #heartbeat}), or when the worker sees a timeout pass or shuts down. Then its thread
 * is interrupted and the next {@code heartbeat()} throws {@link ActivityCanceledException}; re-throw it
 * to be reported cancelled. {@link ActivityMethod#noThreadCancelException()} turns both off, and
 * {@link #shieldCancellation()} defers them.
 */
public final class Activity {
  private static final ActivityLogger DEFAULT_LOGGER =
      ActivityLogger.wrap(org.slf4j.LoggerFactory.getLogger("dev.perdura.activity"));

  private Activity() {}

  private static ActivityExecution current() {
    ActivityExecution execution = ActivityExecution.current();
    if (execution == null) {
      throw new IllegalStateException("not in an activity: this needs to run inside an activity method "
          + "or a thread it started");
    }
    return execution;
  }

  /** Whether the calling thread runs an activity (or was started by one). */
  public static boolean inActivity() {
    return ActivityExecution.current() != null;
  }

  public static ActivityInfo info() {
    return current().info();
  }

  /**
   * Records progress (the details reach the next attempt if this one fails) and tells the server the
   * activity is alive. Sent throttled; the latest details win.
   *
   * @throws ActivityCanceledException the activity was cancelled (unless it opted out or is shielded)
   */
  public static void heartbeat(Object... details) {
    current().heartbeat(details);
  }

  /** Whether a cancellation reached this activity, for any reason. */
  public static boolean isCancelled() {
    return current().isCancelled();
  }

  /** Why the activity was cancelled; empty while it is not. Set once, never changed. */
  public static Optional<ActivityCancellationDetails> cancellationDetails() {
    return Optional.ofNullable(current().cancellationDetails());
  }

  /** Whether the worker running this activity has begun to shut down. */
  public static boolean isWorkerShutdown() {
    return current().isWorkerShutdown();
  }

  /**
   * Blocks until the activity is cancelled or the timeout passes.
   *
   * @return whether it was cancelled
   */
  public static boolean waitForCancelled(Duration timeout) throws InterruptedException {
    return current().awaitCancelled(timeout);
  }

  /**
   * Blocks until the worker begins to shut down or the timeout passes.
   *
   * @return whether shutdown began
   */
  public static boolean waitForWorkerShutdown(Duration timeout) throws InterruptedException {
    return current().awaitWorkerShutdown(timeout);
  }

  /**
   * Opens a block that cancellation does not interrupt; a cancellation that arrived meanwhile is
   * thrown when the outermost shield closes. With try-with-resources, an exception thrown by the block
   * itself takes precedence (the cancellation is added to it as suppressed); use
   * {@link #shielded(Callable)} when the cancellation must replace it.
   */
  public static CancellationShield shieldCancellation() {
    return current().shield();
  }

  /**
   * Runs a block shielded from cancellation. If a cancellation arrived meanwhile, it is thrown at the
   * end instead of the block's result or exception (which becomes suppressed).
   */
  public static <T> T shielded(Callable<T> block) throws Exception {
    CancellationShield shield = shieldCancellation();
    T result;
    try {
      result = block.call();
    } catch (Exception | Error e) {
      try {
        shield.close();
      } catch (ActivityCanceledException cancelled) {
        cancelled.addSuppressed(e);
        throw cancelled;
      }
      throw e;
    }
    shield.close();
    return result;
  }

  /**
   * Declares that the activity will be completed elsewhere, with {@code PerduraClient.activityHandle}
   * and the task token in {@link ActivityInfo#taskToken()}: the worker reports nothing when the method
   * ends. Throw what this returns, so the compiler knows the method ends here:
   *
   * <pre>{@code
   * externalSystem.startTask(taskId, Activity.info().taskToken());
   * throw Activity.completeAsync();
   * }</pre>
   */
  public static CompleteAsyncException completeAsync() {
    current().completeAsync();
    return new CompleteAsyncException();
  }

  /** The converter of this activity's worker, to decode {@code RawValue}s. */
  public static PayloadConverter payloadConverter() {
    return current().converter();
  }

  /**
   * The worker's metric meter, tagged with this activity's namespace, task queue and type. Records
   * nothing unless the worker was given a meter ({@code WorkerOptions.withMetricMeter}).
   */
  public static MetricMeter metricMeter() {
    return current().metricMeter();
  }

  /** The client of this activity's worker, to start workflows or complete other activities. */
  public static PerduraClient client() {
    return current().client();
  }

  /**
   * A logger whose records carry this activity's context: MDC keys {@code activity_id},
   * {@code activity_type}, {@code attempt}, {@code workflow_id}, {@code workflow_run_id},
   * {@code namespace}, {@code task_queue}, and by default the same info appended to each message.
   */
  public static Logger logger() {
    return DEFAULT_LOGGER;
  }
}
