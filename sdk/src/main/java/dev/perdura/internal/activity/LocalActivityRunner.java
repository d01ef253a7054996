package dev.perdura.internal.activity;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.client.PerduraClient;
import dev.perdura.common.Priority;
import dev.perdura.common.RetryPolicy;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.failure.CanceledFailure;
import dev.perdura.internal.Protos;
import dev.perdura.internal.failure.Failures;
import dev.perdura.internal.workflow.LocalActivities;
import dev.perdura.metrics.MetricMeter;
import dev.perdura.workflow.LocalActivityOptions;
import io.temporal.api.common.v1.Payloads;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs local activities in the worker: each on its own virtual thread, with the same context as a
 * task-queue activity ({@code Activity.info().local()} is true; heartbeats are accepted and dropped),
 * retried here per its policy, cancelled directly: no heartbeat is needed to learn of it.
 */
public final class LocalActivityRunner implements LocalActivities {
  private static final Logger log = LoggerFactory.getLogger(LocalActivityRunner.class);

  private final PerduraClient client;
  private final ActivityRegistry registry;
  private final ActivityTaskRunner runner;
  private final WorkerShutdownSignal shutdown;
  private final ScheduledExecutorService scheduler;
  private final MetricMeter meter;
  private final String taskQueue;

  public LocalActivityRunner(PerduraClient client, ActivityRegistry registry, ActivityTaskRunner runner,
      WorkerShutdownSignal shutdown, ScheduledExecutorService scheduler, MetricMeter meter, String taskQueue) {
    this.client = client;
    this.registry = registry;
    this.runner = runner;
    this.shutdown = shutdown;
    this.scheduler = scheduler;
    this.meter = meter;
    this.taskQueue = taskQueue;
  }

  @Override
  public Running start(String workflowId, String runId, String workflowType, String activityId, String activityType,
      Payloads input, LocalActivityOptions options) {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    var attempt = new java.util.concurrent.atomic.AtomicReference<ActivityExecution>();
    var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
    var cancelSignal = new java.util.concurrent.CountDownLatch(1);
    Thread.ofVirtual().name("local-activity-" + activityType + "-" + activityId).start(() -> {
      Instant scheduled = Instant.now();
      long deadline = options.scheduleToCloseTimeout() == null ? Long.MAX_VALUE
          : System.nanoTime() + options.scheduleToCloseTimeout().toNanos();
      RetryPolicy policy = options.retryPolicy();
      Duration backoff = policy.initialInterval() == null ? Duration.ofSeconds(1) : policy.initialInterval();
      for (int number = 1; ; number++) {
        Optional<ActivityDefinition> definition = registry.lookup(activityType);
        if (definition.isEmpty()) {
          outcome.complete(new Outcome(null, Failures.toProto(ApplicationFailure.nonRetryable("local activity type '"
              + activityType + "' is not registered on this worker; registered: " + registry.names(), "NotFoundError"),
              client.payloadConverter())));
          return;
        }
        ActivityInfo info = new ActivityInfo(activityId, activityType, number, Instant.now(), List.of(), Optional.empty(),
            true, Optional.ofNullable(options.scheduleToCloseTimeout()), scheduled,
            Optional.of(options.startToCloseTimeout()), Instant.now(), taskQueue, new byte[0], client.namespace(),
            Optional.of(workflowId), Optional.of(runId), Optional.of(workflowType), Priority.DEFAULT, Optional.empty());
        ActivityExecution execution = new ActivityExecution(info, definition.get(),
            definition.get().noThreadCancelException(), client, client.payloadConverter(), client.options().identity(),
            shutdown, meter.withTags(java.util.Map.of("namespace", info.namespace(), "task_queue", taskQueue,
                "activity_type", activityType)), e -> HeartbeatSink.DROPPED);
        attempt.set(execution);
        if (cancelled.get()) {
          execution.cancel(Reason.CANCEL_REQUESTED);
        }
        execution.bind(Thread.currentThread());
        execution.armLocalTimeouts(scheduler);
        Object result = null;
        Throwable error = null;
        try {
          result = runner.invoke(execution, input);
        } catch (Throwable t) {
          error = t;
        } finally {
          execution.finish();
        }
        if (error == null) {
          outcome.complete(new Outcome(Protos.encode(client.payloadConverter(), Arrays.asList(result)), null));
          return;
        }
        if (cancelled.get() && ActivityTaskRunner.isCancellation(error)) {
          outcome.complete(new Outcome(null, Failures.toProto(new CanceledFailure("local activity cancelled"),
              client.payloadConverter())));
          return;
        }
        boolean retryable = !(error instanceof ApplicationFailure application && (application.isNonRetryable()
            || policy.nonRetryableErrorTypes().contains(application.type())))
            && !policy.nonRetryableErrorTypes().contains(error.getClass().getName());
        boolean attemptsLeft = policy.maximumAttempts() == 0 || number < policy.maximumAttempts();
        if (!retryable || !attemptsLeft || System.nanoTime() + backoff.toNanos() >= deadline || shutdown.isSet()) {
          outcome.complete(new Outcome(null, Failures.toProto(error, client.payloadConverter())));
          return;
        }
        log.info("local activity {} ({}) of workflow {} failed on attempt {}; retrying in {}: {}", activityId,
            activityType, workflowId, number, backoff, error.toString());
        boolean cancelledMeanwhile;
        try {
          cancelledMeanwhile = cancelSignal.await(backoff.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          cancelledMeanwhile = true;
        }
        if (cancelledMeanwhile) {
          outcome.complete(new Outcome(null, Failures.toProto(new CanceledFailure("local activity cancelled"),
              client.payloadConverter())));
          return;
        }
        double coefficient = policy.backoffCoefficient() == 0 ? 2.0 : policy.backoffCoefficient();
        Duration next = Duration.ofNanos((long) (backoff.toNanos() * coefficient));
        Duration cap = policy.maximumInterval() == null ? backoff.multipliedBy(100) : policy.maximumInterval();
        backoff = next.compareTo(cap) > 0 ? cap : next;
      }
    });
    return new Running() {
      @Override
      public CompletableFuture<Outcome> outcome() {
        return outcome;
      }

      @Override
      public void cancel() {
        cancelled.set(true);
        ActivityExecution execution = attempt.get();
        if (execution != null) {
          execution.cancel(Reason.CANCEL_REQUESTED);
        }
        // Also ends a wait between attempts.
        cancelSignal.countDown();
      }
    };
  }
}
