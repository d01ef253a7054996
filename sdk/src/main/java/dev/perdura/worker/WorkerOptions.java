package dev.perdura.worker;

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
 */
public record WorkerOptions(
    int maxConcurrentActivities, int activityPollers, Duration shutdownGracePeriod, Executor activityExecutor) {
  public static final WorkerOptions DEFAULTS = new WorkerOptions(100, 2, Duration.ZERO, null);

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
  }

  public WorkerOptions withMaxConcurrentActivities(int max) {
    return new WorkerOptions(max, Math.min(activityPollers, max), shutdownGracePeriod, activityExecutor);
  }

  public WorkerOptions withActivityPollers(int pollers) {
    return new WorkerOptions(maxConcurrentActivities, pollers, shutdownGracePeriod, activityExecutor);
  }

  public WorkerOptions withShutdownGracePeriod(Duration grace) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, grace, activityExecutor);
  }

  public WorkerOptions withActivityExecutor(Executor executor) {
    return new WorkerOptions(maxConcurrentActivities, activityPollers, shutdownGracePeriod, executor);
  }
}
