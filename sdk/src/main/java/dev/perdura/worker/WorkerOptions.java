package dev.perdura.worker;

import dev.perdura.metrics.MetricMeter;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * How a {@link Worker} runs activities.
 *
 * @param maxConcurrentActivities activities running at once; the worker polls only with a free slot
 * @param activityPollers concurrent long polls of the activity task queue
 * @param shutdownGracePeriod how long {@link Worker#shutdown()} lets running activities finish before
 *     cancelling them with reason {@code worker_shutdown}
 * @param activityExecutor runs activity methods; null means a new virtual thread per activity
 * @param metricMeter where {@code Activity.metricMeter()} records; null means nowhere
 */
public record WorkerOptions(
    int maxConcurrentActivities, int activityPollers, Duration shutdownGracePeriod, Executor activityExecutor,
    MetricMeter metricMeter) {
  public static final WorkerOptions DEFAULTS = new WorkerOptions(100, 2, Duration.ZERO, null, null);

  public WorkerOptions {
    if (maxConcurrentActivities < 1) {
      throw new IllegalArgumentException("maxConcurrentActivities must be at least 1, was " + maxConcurrentActivities);
    }
    if (activityPollers < 1) {
      throw new IllegalArgumentException("activityPollers must be at least 1, was " + activityPollers);
    }
    if (shutdownGracePeriod == null || shutdownGracePeriod.isNegative()) {
      throw new IllegalArgumentException("shutdownGracePeriod must be zero or positive, was " + shutdownGracePeriod);
    }
    metricMeter = metricMeter == null ? MetricMeter.noop() : metricMeter;
  }

  public WorkerOptions withMaxConcurrentActivities(int max) {
    return new WorkerOptions(max, Math.min(activityPollers, max), shutdownGracePeriod, activityExecutor, metricMeter);
  }

  public WorkerOptions withActivityPollers(int pollers) {
    return new WorkerOptions(maxConcurrentActivities, pollers, shutdownGracePeriod, activityExecutor, metricMeter);
  }

  public WorkerOptions withShutdownGracePeriod(Duration grace) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, grace, activityExecutor, metricMeter);
  }

  public WorkerOptions withMetricMeter(MetricMeter meter) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, shutdownGracePeriod, activityExecutor, meter);
  }

  public WorkerOptions withActivityExecutor(Executor executor) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, shutdownGracePeriod, executor, metricMeter);
  }
}
