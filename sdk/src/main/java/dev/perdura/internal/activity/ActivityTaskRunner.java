package dev.perdura.internal.activity;

import com.google.protobuf.ByteString;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityCancellationDetails;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.activity.CompleteAsyncException;
import dev.perdura.client.PerduraClient;
import dev.perdura.common.Payload;
import dev.perdura.common.RawValue;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.internal.Protos;
import dev.perdura.internal.failure.Failures;
import dev.perdura.internal.grpc.ServiceConnection;
import dev.perdura.metrics.MetricMeter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedRequest;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one activity task: decodes the arguments, calls the method on the activity's thread, and
 * reports the outcome (completed, failed, cancelled, or nothing for asynchronous completion).
 */
public final class ActivityTaskRunner {
  private static final Logger log = LoggerFactory.getLogger(ActivityTaskRunner.class);

  private final PerduraClient client;
  private final ServiceConnection connection;
  private final String identity;
  private final ActivityRegistry registry;
  private final WorkerShutdownSignal workerShutdown;
  private final ScheduledExecutorService scheduler;
  private final MetricMeter meter;

  public ActivityTaskRunner(PerduraClient client, ServiceConnection connection, String identity,
      ActivityRegistry registry, WorkerShutdownSignal workerShutdown, ScheduledExecutorService scheduler,
      MetricMeter meter) {
    this.meter = meter;
    this.client = client;
    this.connection = connection;
    this.identity = identity;
    this.registry = registry;
    this.workerShutdown = workerShutdown;
    this.scheduler = scheduler;
  }

  public static ActivityInfo info(PollActivityTaskQueueResponse task, String namespace, String taskQueue) {
    boolean hasWorkflow = task.hasWorkflowExecution() && !task.getWorkflowExecution().getWorkflowId().isEmpty();
    List<RawValue> heartbeat = new ArrayList<>();
    for (Payload payload : Protos.payloads(task.getHeartbeatDetails())) {
      heartbeat.add(new RawValue(payload));
    }
    return new ActivityInfo(
        task.getActivityId(),
        task.getActivityType().getName(),
        task.getAttempt(),
        Protos.instant(task.getCurrentAttemptScheduledTime()),
        heartbeat,
        Optional.ofNullable(Protos.optionalDuration(task.hasHeartbeatTimeout(), task.getHeartbeatTimeout())),
        false,
        Optional.ofNullable(Protos.optionalDuration(task.hasScheduleToCloseTimeout(), task.getScheduleToCloseTimeout())),
        Protos.instant(task.getScheduledTime()),
        Optional.ofNullable(Protos.optionalDuration(task.hasStartToCloseTimeout(), task.getStartToCloseTimeout())),
        Protos.instant(task.getStartedTime()),
        taskQueue,
        task.getTaskToken().toByteArray(),
        task.getWorkflowNamespace().isEmpty() ? namespace : task.getWorkflowNamespace(),
        hasWorkflow ? Optional.of(task.getWorkflowExecution().getWorkflowId()) : Optional.empty(),
        hasWorkflow ? Optional.of(task.getWorkflowExecution().getRunId()) : Optional.empty(),
        task.hasWorkflowType() ? Optional.of(task.getWorkflowType().getName()) : Optional.empty(),
        Protos.fromProto(task.getPriority()),
        task.getActivityRunId().isEmpty() ? Optional.empty() : Optional.of(task.getActivityRunId()));
  }

  /** An execution ready to run, or empty (and the task already failed) when the type is unknown. */
  public Optional<ActivityExecution> prepare(ActivityInfo info) {
    Optional<ActivityDefinition> definition = registry.lookup(info.activityType());
    if (definition.isEmpty()) {
      ApplicationFailure unknown = ApplicationFailure.retryable("activity type '" + info.activityType()
          + "' is not registered on this worker; registered: " + registry.names(), "NotFoundError");
      log.error("activity {} of workflow {}: {}", info.activityId(), info.workflowId().orElse("-"), unknown.getMessage());
      respondFailed(info, Failures.toProto(unknown, client.payloadConverter()), null);
      return Optional.empty();
    }
    MetricMeter tagged = meter.withTags(java.util.Map.of(
        "namespace", info.namespace(), "task_queue", info.taskQueue(), "activity_type", info.activityType()));
    Duration heartbeatTimeout = info.heartbeatTimeout().orElse(null);
    return Optional.of(new ActivityExecution(info, definition.get(), definition.get().noThreadCancelException(), client,
        client.payloadConverter(), identity, workerShutdown, tagged,
        execution -> new Heartbeater(execution, connection, scheduler, heartbeatTimeout)));
  }

  /** Runs on the activity's own thread; returns once the outcome is reported. */
  public void run(ActivityExecution execution, Payloads input) {
    execution.bind(Thread.currentThread());
    execution.armLocalTimeouts(scheduler);
    ActivityInfo info = execution.info();
    Object result = null;
    Throwable error = null;
    try {
      result = invoke(execution, input);
    } catch (Throwable t) {
      error = t;
    } finally {
      execution.finish();
    }
    report(execution, result, error);
  }

  /** Calls the activity's method on the calling thread, which must be bound to the execution. */
  Object invoke(ActivityExecution execution, Payloads input) throws Throwable {
    ActivityDefinition definition = execution.definition();
    Method method = definition.method();
    List<Payload> payloads = Protos.payloads(input);
    Object[] args;
    if (definition.dynamic()) {
      args = new Object[] {payloads.stream().map(RawValue::new).toList()};
    } else {
      Type[] types = method.getGenericParameterTypes();
      args = new Object[types.length];
      for (int i = 0; i < types.length; i++) {
        args[i] = i < payloads.size()
            ? client.payloadConverter().fromPayload(payloads.get(i), types[i])
            : defaultValue(method.getParameterTypes()[i]);
      }
    }
    Object returned;
    try {
      returned = method.invoke(definition.target(), args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
    if (returned instanceof CompletionStage<?> stage) {
      CompletableFuture<?> future = stage.toCompletableFuture();
      execution.asyncResult(future);
      try {
        return future.get();
      } catch (ExecutionException e) {
        throw e.getCause();
      } catch (java.util.concurrent.CancellationException e) {
        ActivityCancellationDetails details = execution.cancellationDetails();
        throw details != null ? new ActivityCanceledException(details) : e;
      }
    }
    return returned;
  }

  private static Object defaultValue(Class<?> type) {
    if (!type.isPrimitive()) {
      return null;
    }
    if (type == boolean.class) {
      return false;
    }
    if (type == char.class) {
      return '\0';
    }
    return java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0);
  }

  private void report(ActivityExecution execution, Object result, Throwable error) {
    ActivityInfo info = execution.info();
    if (error instanceof CompleteAsyncException || (error == null && execution.completesAsync())) {
      log.debug("activity {} ({}) of workflow {} will be completed asynchronously", info.activityId(),
          info.activityType(), info.workflowId().orElse("-"));
      return;
    }
    if (error == null) {
      Payloads payloads = Protos.encode(client.payloadConverter(), java.util.Arrays.asList(result));
      respond(info, "completion", () -> connection.call().respondActivityTaskCompleted(
          RespondActivityTaskCompletedRequest.newBuilder()
              .setNamespace(info.namespace()).setTaskToken(ByteString.copyFrom(info.taskToken()))
              .setResult(payloads).setIdentity(identity).build()));
      return;
    }
    ActivityCancellationDetails cancelled = execution.cancellationDetails();
    if (cancelled != null && isCancellation(error)) {
      reportCancelled(execution, cancelled);
      return;
    }
    log.warn("activity {} ({}) attempt {} of workflow {} failed: {}", info.activityId(), info.activityType(),
        info.attempt(), info.workflowId().orElse("-"), error.toString());
    respondFailed(info, Failures.toProto(error, client.payloadConverter()), execution.heartbeats().lastDetails());
  }

  /** The activity let the cancellation end it (directly, or as an interrupted blocking call). */
  static boolean isCancellation(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ActivityCanceledException || t instanceof InterruptedException
          || t instanceof java.util.concurrent.CancellationException) {
        return true;
      }
    }
    return false;
  }

  private void reportCancelled(ActivityExecution execution, ActivityCancellationDetails details) {
    ActivityInfo info = execution.info();
    switch (details.reason()) {
      case CANCEL_REQUESTED -> respond(info, "cancellation", () -> connection.call().respondActivityTaskCanceled(
          RespondActivityTaskCanceledRequest.newBuilder()
              .setNamespace(info.namespace()).setTaskToken(ByteString.copyFrom(info.taskToken()))
              .setIdentity(identity).build()));
      // The server already moved on: it timed the attempt out, or no longer knows it.
      case NOT_FOUND, TIMED_OUT -> log.info("activity {} ({}) attempt {} of workflow {} ended after cancellation"
          + " ({}); nothing to report", info.activityId(), info.activityType(), info.attempt(),
          info.workflowId().orElse("-"), details.reason().name().toLowerCase());
      // A failure lets the server decide: retry elsewhere (shutdown), hold (pause), start over (reset).
      case WORKER_SHUTDOWN -> respondFailed(info, Failures.toProto(ApplicationFailure.retryable(
          "worker shutting down", "WorkerShutdown"), client.payloadConverter()), execution.heartbeats().lastDetails());
      case PAUSED -> respondFailed(info, Failures.toProto(ApplicationFailure.retryable(
          "activity paused", "ActivityPaused"), client.payloadConverter()), execution.heartbeats().lastDetails());
      case RESET -> respondFailed(info, Failures.toProto(ApplicationFailure.retryable(
          "activity reset", "ActivityReset"), client.payloadConverter()), execution.heartbeats().lastDetails());
    }
  }

  private void respondFailed(ActivityInfo info, Failure failure, Payloads lastHeartbeat) {
    RespondActivityTaskFailedRequest.Builder request = RespondActivityTaskFailedRequest.newBuilder()
        .setNamespace(info.namespace()).setTaskToken(ByteString.copyFrom(info.taskToken()))
        .setFailure(failure).setIdentity(identity);
    if (lastHeartbeat != null) {
      request.setLastHeartbeatDetails(lastHeartbeat);
    }
    respond(info, "failure", () -> connection.call().respondActivityTaskFailed(request.build()));
  }

  private static void respond(ActivityInfo info, String what, Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        log.warn("{} of activity {} ({}) attempt {} of workflow {} was rejected: the server no longer waits for"
            + " this attempt", what, info.activityId(), info.activityType(), info.attempt(),
            info.workflowId().orElse("-"));
      } else {
        log.error("{} of activity {} ({}) attempt {} of workflow {} could not be delivered: {}; the server will"
            + " time the attempt out", what, info.activityId(), info.activityType(), info.attempt(),
            info.workflowId().orElse("-"), e.getStatus());
      }
    }
  }
}
