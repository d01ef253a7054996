package dev.perdura.worker;

import dev.perdura.metrics.MetricMeter;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * How a {@link Worker} runs activities and workflow tasks.
 *
 * @param maxConcurrentActivities activities running at once; the worker polls only with a free slot
 * @param activityPollers concurrent long polls of the activity task queue
 * @param maxConcurrentWorkflowTasks workflow tasks processed at once (default 200, as in Temporal's Java SDK);
 *     a slot free also lets this worker take the first task of a run its client starts (eager start)
 * @param workflowPollers concurrent long polls of the workflow task queue, and as many of the worker's
 *     sticky queue when the cache is on
 * @param workflowCacheSize workflow executions kept in memory between their tasks (0 turns the cache
 *     off: every task replays the whole history)
 * @param shutdownGracePeriod how long {@link Worker#shutdown()} lets running activities finish before
 *     cancelling them with reason {@code worker_shutdown}
 * @param activityExecutor runs activity methods; null means a new virtual thread per activity
 * @param metricMeter where {@code Activity.metricMeter()} records; null means nowhere
 */
public record WorkerOptions(
    int maxConcurrentActivities,
    int activityPollers,
    int maxConcurrentWorkflowTasks,
    int workflowPollers,
    int workflowCacheSize,
    Duration shutdownGracePeriod,
    Executor activityExecutor,
    MetricMeter metricMeter) {
  public static final WorkerOptions DEFAULTS = new WorkerOptions(100, 2, 200, 2, 600, Duration.ZERO, null, null);

  public WorkerOptions {
    requireAtLeastOne("maxConcurrentActivities", maxConcurrentActivities);
    requireAtLeastOne("activityPollers", activityPollers);
    requireAtLeastOne("maxConcurrentWorkflowTasks", maxConcurrentWorkflowTasks);
    requireAtLeastOne("workflowPollers", workflowPollers);
    if (workflowCacheSize < 0) {
      throw new IllegalArgumentException("workflowCacheSize must not be negative, was " + workflowCacheSize);
    }
    if (shutdownGracePeriod == null || shutdownGracePeriod.isNegative()) {
      throw new IllegalArgumentException("shutdownGracePeriod must be zero or positive, was " + shutdownGracePeriod);
    }
    metricMeter = metricMeter == null ? MetricMeter.noop() : metricMeter;
  }

  private static void requireAtLeastOne(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, was " + value);
    }
  }

  public WorkerOptions withMaxConcurrentActivities(int max) {
    return new WorkerOptions(max, Math.min(activityPollers, max), maxConcurrentWorkflowTasks, workflowPollers, workflowCacheSize,
        shutdownGracePeriod, activityExecutor, metricMeter);
  }

  public WorkerOptions withActivityPollers(int pollers) {
    return new WorkerOptions(maxConcurrentActivities, pollers, maxConcurrentWorkflowTasks, workflowPollers, workflowCacheSize,
        shutdownGracePeriod, activityExecutor, metricMeter);
  }

  public WorkerOptions withMaxConcurrentWorkflowTasks(int max) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, max, Math.min(workflowPollers, max),
        workflowCacheSize, shutdownGracePeriod, activityExecutor, metricMeter);
  }

  /** Long polls for workflow tasks kept open at once; at most {@link #maxConcurrentWorkflowTasks}. */
  public WorkerOptions withWorkflowPollers(int pollers) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, maxConcurrentWorkflowTasks,
        Math.min(pollers, maxConcurrentWorkflowTasks), workflowCacheSize, shutdownGracePeriod, activityExecutor,
        metricMeter);
  }

  public WorkerOptions withWorkflowCacheSize(int size) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, maxConcurrentWorkflowTasks, workflowPollers, size,
        shutdownGracePeriod, activityExecutor, metricMeter);
  }

  public WorkerOptions withShutdownGracePeriod(Duration grace) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, maxConcurrentWorkflowTasks, workflowPollers, workflowCacheSize,
        grace, activityExecutor, metricMeter);
  }

  public WorkerOptions withMetricMeter(MetricMeter meter) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, maxConcurrentWorkflowTasks, workflowPollers, workflowCacheSize,
        shutdownGracePeriod, activityExecutor, meter);
  }

  public WorkerOptions withActivityExecutor(Executor executor) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, maxConcurrentWorkflowTasks, workflowPollers, workflowCacheSize,
        shutdownGracePeriod, executor, metricMeter);
  }
}
