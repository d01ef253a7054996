package dev.perdura.server.history;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.perdura.server.common.Errors;
import dev.perdura.server.common.TaskToken;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.failure.v1.TimeoutFailureInfo;
import io.temporal.api.history.v1.ActivityTaskCancelRequestedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskCanceledEventAttributes;
import io.temporal.api.history.v1.ActivityTaskCompletedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskFailedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.ActivityTaskStartedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskTimedOutEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.taskqueue.v1.TaskQueue;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The activity state machine on the server: scheduled → started → completed / failed / timed out /
 * canceled, with retries in between that leave no events (the started event is written once,
 * lazily, right before the closing event).
 */
final class Activities {
  /** The same limit as the frontend applies to the ids of requests, in UTF-8 bytes. */
  static final int MAX_ID_BYTES = 1000;
  static final int MAX_FAIRNESS_KEY_BYTES = 64;

  private Activities() {}

  static String scheduleToStartKey(long id, int attempt) {
    return "act-s2s:" + id + ":" + attempt;
  }

  static String startToCloseKey(long id, int attempt) {
    return "act-stc:" + id + ":" + attempt;
  }

  static String heartbeatKey(long id, int attempt) {
    return "act-hb:" + id + ":" + attempt;
  }

  static String scheduleToCloseKey(long id) {
    return "act-s2c:" + id;
  }

  static String retryKey(long id, int attempt) {
    return "act-retry:" + id + ":" + attempt;
  }

  private static BadCommandException bad(String message) {
    return new BadCommandException(
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
        "ScheduleActivityTask: " + message);
  }

  /** Ids are limited in UTF-8 bytes, like the ids of requests. */
  private static void checkIdLength(String field, String value) {
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw bad(field + " exceeds " + MAX_ID_BYTES + " bytes");
    }
  }

  private static long timeout(String field, boolean present, Duration duration) {
    return Commands.millis(
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
        "ScheduleActivityTask: " + field,
        present,
        duration);
  }

  /** Validates a priority, for commands and requests alike; returns an error message or null. */
  static String priorityProblem(Priority priority) {
    if (priority.getPriorityKey() < 0 || priority.getPriorityKey() > 5) {
      return "priority.priority_key must be in 0..5";
    }
    if (priority.getFairnessKey().getBytes(StandardCharsets.UTF_8).length > MAX_FAIRNESS_KEY_BYTES) {
      return "priority.fairness_key must be at most " + MAX_FAIRNESS_KEY_BYTES + " bytes";
    }
    if (priority.getFairnessWeight() < 0 || Float.isNaN(priority.getFairnessWeight())) {
      return "priority.fairness_weight must not be negative";
    }
    return null;
  }

  /** An activity's priority: its own fields, each unset one inherited from the workflow. */
  static Priority effectivePriority(Priority own, Priority workflow) {
    Priority.Builder merged = workflow.toBuilder();
    if (own.getPriorityKey() != 0) {
      merged.setPriorityKey(own.getPriorityKey());
    }
    if (!own.getFairnessKey().isEmpty()) {
      merged.setFairnessKey(own.getFairnessKey());
    }
    if (own.getFairnessWeight() != 0) {
      merged.setFairnessWeight(own.getFairnessWeight());
    }
    return merged.build();
  }

  /**
   * Schedules an activity. With {@code eagerIdentity} set, the worker completing the workflow task
   * asked to run it itself: it starts here, in the same change, and never enters the task queue;
   * the start is recorded in {@link Execution#eagerStarts} for the response.
   */
  static void schedule(
      Execution e, long completedId, ScheduleActivityTaskCommandAttributes a, String eagerIdentity) {
    ExecutionState s = e.state;
    if (a.getActivityId().isEmpty()) {
      throw bad("activity_id is not set");
    }
    checkIdLength("activity_id", a.getActivityId());
    if (a.getActivityType().getName().isEmpty()) {
      throw bad("activity_type.name is not set");
    }
    checkIdLength("activity_type.name", a.getActivityType().getName());
    // No task queue means the workflow's own, as in Temporal.
    String taskQueue = a.getTaskQueue().getName().isEmpty() ? s.taskQueue : a.getTaskQueue().getName();
    checkIdLength("task_queue.name", taskQueue);
    for (ActivityInfo pending : s.activities.values()) {
      if (pending.activityId.equals(a.getActivityId())) {
        throw new BadCommandException(
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
            "ScheduleActivityTask: activity_id " + a.getActivityId() + " is already in use");
      }
    }
    long s2c = timeout("schedule_to_close_timeout", a.hasScheduleToCloseTimeout(), a.getScheduleToCloseTimeout());
    long s2s = timeout("schedule_to_start_timeout", a.hasScheduleToStartTimeout(), a.getScheduleToStartTimeout());
    long stc = timeout("start_to_close_timeout", a.hasStartToCloseTimeout(), a.getStartToCloseTimeout());
    long hb = timeout("heartbeat_timeout", a.hasHeartbeatTimeout(), a.getHeartbeatTimeout());
    long run = s.runTimeoutMillis;
    if (s2c > 0) {
      s2s = s2s > 0 ? Math.min(s2s, s2c) : s2c;
      stc = stc > 0 ? Math.min(stc, s2c) : s2c;
    } else if (stc > 0) {
      s2c = run;
      if (s2s == 0) {
        s2s = run;
      }
    } else {
      throw bad("start_to_close_timeout or schedule_to_close_timeout must be set");
    }
    if (run > 0) {
      s2c = s2c == 0 ? run : Math.min(s2c, run);
      s2s = s2s == 0 ? run : Math.min(s2s, run);
      stc = Math.min(stc, run);
      hb = Math.min(hb, run);
    }
    hb = Math.min(hb, stc);
    RetryPolicy retry = ActivityRetries.withDefaults(a.hasRetryPolicy() ? a.getRetryPolicy() : null);
    String priorityProblem = priorityProblem(a.getPriority());
    if (priorityProblem != null) {
      throw bad(priorityProblem);
    }
    Priority priority = effectivePriority(a.getPriority(), Protos.priority(s.priority));

    ActivityTaskScheduledEventAttributes.Builder scheduled =
        ActivityTaskScheduledEventAttributes.newBuilder()
            .setActivityId(a.getActivityId())
            .setActivityType(a.getActivityType())
            .setTaskQueue(TaskQueue.newBuilder().setName(taskQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setScheduleToCloseTimeout(Protos.duration(s2c))
            .setScheduleToStartTimeout(Protos.duration(s2s))
            .setStartToCloseTimeout(Protos.duration(stc))
            .setHeartbeatTimeout(Protos.duration(hb))
            .setWorkflowTaskCompletedEventId(completedId)
            .setRetryPolicy(retry)
            .setPriority(priority);
    if (a.hasHeader()) {
      scheduled.setHeader(a.getHeader());
    }
    if (a.hasInput()) {
      scheduled.setInput(a.getInput());
    }
    long id =
        e.append(
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
                .setActivityTaskScheduledEventAttributes(scheduled));
    ActivityInfo info = new ActivityInfo();
    info.scheduledEventId = id;
    info.activityId = a.getActivityId();
    info.activityType = a.getActivityType().getName();
    info.taskQueue = taskQueue;
    info.scheduleToCloseMillis = s2c;
    info.scheduleToStartMillis = s2s;
    info.startToCloseMillis = stc;
    info.heartbeatMillis = hb;
    info.retryPolicy = retry.toByteArray();
    info.priority = priority.toByteArray();
    info.firstScheduledTime = e.now;
    info.scheduledTime = e.now;
    s.activities.put(id, info);
    if (s2c > 0) {
      e.putTimer(scheduleToCloseKey(id), e.now + s2c);
    }
    if (eagerIdentity != null) {
      e.eagerStarts.add(new EagerStart(markStarted(e, info, eagerIdentity, ""), scheduled.build()));
    } else {
      enqueue(e, info);
    }
  }

  /** An activity started in the change that scheduled it, with what its task needs from the event. */
  record EagerStart(Started started, ActivityTaskScheduledEventAttributes scheduled) {}

  /** Puts the current attempt into its task queue and arms its schedule-to-start timer. */
  private static void enqueue(Execution e, ActivityInfo a) {
    a.waitingForRetry = false;
    a.scheduledTime = e.now;
    e.putTask(TaskKind.ACTIVITY, a.taskQueue, a.scheduledEventId, a.attempt, a.priority);
    if (a.scheduleToStartMillis > 0) {
      e.putTimer(scheduleToStartKey(a.scheduledEventId, a.attempt), e.now + a.scheduleToStartMillis);
    }
  }

  /** What a poller needs once the start is durable. */
  record Started(TaskToken token, ActivityInfo activity, String workflowType) {}

  static Optional<Started> start(Tx tx, TaskRow task, String identity, String requestId) {
    Optional<Execution> found = tx.find(task.execution());
    if (found.isEmpty() || !found.get().state.isRunning()) {
      return Optional.empty();
    }
    Execution e = found.get();
    ActivityInfo a = e.state.activities.get(task.scheduledEventId());
    if (a == null
        || a.started
        || a.waitingForRetry
        || a.paused
        || a.attempt != task.attempt()
        || !a.taskQueue.equals(task.taskQueue())) {
      return Optional.empty();
    }
    e.deleteTask(TaskKind.ACTIVITY, a.scheduledEventId);
    e.deleteTimer(scheduleToStartKey(a.scheduledEventId, a.attempt));
    return Optional.of(markStarted(e, a, identity, requestId));
  }

  /** Whether {@code task}, queued by the change being computed, is for an activity waiting to start. */
  static boolean isStartable(Execution e, TaskRow task) {
    ActivityInfo a = e.state.isRunning() ? e.state.activities.get(task.scheduledEventId()) : null;
    return a != null
        && !a.started
        && !a.waitingForRetry
        && !a.paused
        && a.attempt == task.attempt()
        && a.taskQueue.equals(task.taskQueue());
  }

  /**
   * Starts a {@linkplain #isStartable startable} activity in the change that queued its task, for a
   * poll that waits: the task is never stored or queued.
   */
  static Started startQueued(Execution e, TaskRow task, String identity, String requestId) {
    ActivityInfo a = e.state.activities.get(task.scheduledEventId());
    e.withdrawQueuedTask(task.kind(), task.scheduledEventId());
    e.deleteTimer(scheduleToStartKey(a.scheduledEventId, a.attempt));
    return markStarted(e, a, identity, requestId);
  }

  private static Started markStarted(Execution e, ActivityInfo a, String identity, String requestId) {
    a.started = true;
    a.startedTime = e.now;
    a.startedIdentity = identity;
    a.startedRequestId = requestId;
    e.putTimer(startToCloseKey(a.scheduledEventId, a.attempt), e.now + a.startToCloseMillis);
    if (a.heartbeatMillis > 0) {
      e.putTimer(heartbeatKey(a.scheduledEventId, a.attempt), e.now + a.heartbeatMillis);
    }
    TaskToken token =
        new TaskToken(
            TaskToken.Kind.ACTIVITY_TASK,
            e.key.namespace(),
            e.key.workflowId(),
            e.key.runId(),
            a.scheduledEventId,
            0,
            a.attempt,
            "");
    return new Started(token, a, e.state.workflowType);
  }

  /** NOT_FOUND for a stale or unknown activity task, in the server's wording. */
  static io.grpc.StatusRuntimeException staleTask() {
    return Errors.notFound(
        "invalid activityID or activity already timed out or invoking workflow is completed");
  }

  /** The started activity a task token names, or NOT_FOUND when the token is stale. */
  static ActivityInfo requireByToken(Execution e, TaskToken token) {
    ActivityInfo a = e.state.isRunning() ? e.state.activities.get(token.scheduledEventId()) : null;
    if (a == null || !a.started || a.attempt != token.attempt()) {
      throw staleTask();
    }
    return a;
  }

  /** The pending activity with that id; by-id calls also reach one that has not started yet. */
  static ActivityInfo requireById(Execution e, String activityId) {
    if (e.state.isRunning()) {
      for (ActivityInfo a : e.state.activities.values()) {
        if (a.activityId.equals(activityId)) {
          return a;
        }
      }
    }
    throw staleTask();
  }

  /**
   * Closes the activity for good: the lazily written started event (if it started), then the
   * closing event built for the given started-event reference (-1 = the event before it).
   */
  private static void close(
      Execution e, ActivityInfo a, java.util.function.LongFunction<HistoryEvent.Builder> closing, boolean scheduleTask) {
    if (a.started) {
      ActivityTaskStartedEventAttributes.Builder started =
          ActivityTaskStartedEventAttributes.newBuilder()
              .setScheduledEventId(a.scheduledEventId)
              .setIdentity(a.startedIdentity)
              .setRequestId(a.startedRequestId)
              .setAttempt(a.attempt);
      if (a.lastFailure != null) {
        started.setLastFailure(Protos.parse(Failure.parser(), a.lastFailure, Failure.getDefaultInstance()));
      }
      e.appendOrBuffer(
          HistoryEvent.newBuilder()
              .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
              .setEventTime(Protos.timestamp(a.startedTime))
              .setActivityTaskStartedEventAttributes(started));
      e.appendOrBuffer(closing.apply(-1));
    } else {
      e.appendOrBuffer(closing.apply(0));
    }
    forget(e, a);
    if (scheduleTask) {
      Runs.scheduleWorkflowTask(e);
    }
  }

  /** Removes the activity and every task and timer it had. */
  private static void forget(Execution e, ActivityInfo a) {
    e.state.activities.remove(a.scheduledEventId);
    if (!a.started && !a.waitingForRetry) {
      e.deleteTask(TaskKind.ACTIVITY, a.scheduledEventId);
    }
    e.deleteTimer(scheduleToStartKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(startToCloseKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(heartbeatKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(retryKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(scheduleToCloseKey(a.scheduledEventId));
  }

  static void complete(Execution e, ActivityInfo a, Payloads result, String identity) {
    close(
        e,
        a,
        startedId -> {
          ActivityTaskCompletedEventAttributes.Builder attributes =
              ActivityTaskCompletedEventAttributes.newBuilder()
                  .setScheduledEventId(a.scheduledEventId)
                  .setStartedEventId(startedId)
                  .setIdentity(identity);
          if (result != null) {
            attributes.setResult(result);
          }
          return HistoryEvent.newBuilder()
              .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
              .setActivityTaskCompletedEventAttributes(attributes);
        },
        true);
  }

  static void fail(Execution e, ActivityInfo a, Failure failure, Payloads lastHeartbeatDetails, String identity) {
    if (lastHeartbeatDetails != null) {
      a.heartbeatDetails = lastHeartbeatDetails.toByteArray();
    }
    ActivityRetries.Decision decision = ActivityRetries.decide(a, failure, null, e.now);
    if (decision.retry()) {
      retry(e, a, failure, decision.delayMillis());
      return;
    }
    close(
        e,
        a,
        startedId ->
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
                .setActivityTaskFailedEventAttributes(
                    ActivityTaskFailedEventAttributes.newBuilder()
                        .setFailure(failure)
                        .setScheduledEventId(a.scheduledEventId)
                        .setStartedEventId(startedId)
                        .setIdentity(identity)
                        .setRetryState(decision.state())),
        true);
  }

  static void canceled(Execution e, ActivityInfo a, Payloads details, String identity) {
    if (!a.cancelRequested) {
      throw Errors.invalidArgument(
          "unable to mark activity as canceled without activity being request canceled first");
    }
    close(
        e,
        a,
        startedId -> {
          ActivityTaskCanceledEventAttributes.Builder attributes =
              ActivityTaskCanceledEventAttributes.newBuilder()
                  .setLatestCancelRequestedEventId(a.cancelRequestedEventId)
                  .setScheduledEventId(a.scheduledEventId)
                  .setStartedEventId(startedId)
                  .setIdentity(identity);
          if (details != null) {
            attributes.setDetails(details);
          }
          return HistoryEvent.newBuilder()
              .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
              .setActivityTaskCanceledEventAttributes(attributes);
        },
        true);
  }

  /** Records a heartbeat: its details and time (which moves the heartbeat deadline). */
  static void heartbeat(Execution e, ActivityInfo a, Payloads details) {
    if (details != null) {
      a.heartbeatDetails = details.toByteArray();
    }
    a.lastHeartbeatTime = e.now;
    e.markChanged();
  }

  /** Another attempt after a backoff: no event; the attempt number grows. */
  private static void retry(Execution e, ActivityInfo a, Failure failure, long delay) {
    e.deleteTimer(startToCloseKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(heartbeatKey(a.scheduledEventId, a.attempt));
    e.deleteTimer(scheduleToStartKey(a.scheduledEventId, a.attempt));
    a.lastFailure = failure.toByteArray();
    a.lastAttemptCompleteTime = e.now;
    // A reset while the attempt ran starts the count over for the next one.
    a.attempt = a.resetRequested ? 1 : a.attempt + 1;
    a.started = false;
    a.startedIdentity = "";
    a.startedRequestId = "";
    a.resetRequested = false;
    e.markChanged();
    if (delay == ActivityRetries.PAUSED_DELAY) {
      a.waitingForRetry = true;
      a.scheduledTime = 0;
    } else if (delay == 0) {
      enqueue(e, a);
    } else {
      a.waitingForRetry = true;
      a.scheduledTime = e.now + delay;
      e.putTimer(retryKey(a.scheduledEventId, a.attempt), a.scheduledTime);
    }
  }

  /**
   * The workflow asked to cancel an activity. Not started: it is canceled at once (and a new
   * workflow task is needed, which the caller schedules after the command events). Started: the
   * request is recorded and reaches the worker with its next heartbeat.
   */
  static boolean requestCancel(Execution e, long completedId, long scheduledEventId) {
    if (scheduledEventId <= 0) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
          "RequestCancelActivityTask: scheduled_event_id must be positive");
    }
    ActivityInfo a = e.state.activities.get(scheduledEventId);
    if (a == null && !closedInBuffer(e, scheduledEventId)) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
          "RequestCancelActivityTask: no pending activity with scheduled_event_id " + scheduledEventId);
    }
    long requestId =
        e.append(
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
                .setActivityTaskCancelRequestedEventAttributes(
                    ActivityTaskCancelRequestedEventAttributes.newBuilder()
                        .setScheduledEventId(scheduledEventId)
                        .setWorkflowTaskCompletedEventId(completedId)));
    if (a == null) {
      return false; // it finished while the task was in flight; its result is in the buffer
    }
    a.cancelRequested = true;
    a.cancelRequestedEventId = requestId;
    if (a.started) {
      return false;
    }
    close(
        e,
        a,
        startedId ->
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
                .setActivityTaskCanceledEventAttributes(
                    ActivityTaskCanceledEventAttributes.newBuilder()
                        .setLatestCancelRequestedEventId(requestId)
                        .setScheduledEventId(a.scheduledEventId)
                        .setStartedEventId(0)),
        false);
    return true;
  }

  private static boolean closedInBuffer(Execution e, long scheduledEventId) {
    for (byte[] bytes : e.state.bufferedEvents) {
      try {
        HistoryEvent event = HistoryEvent.parseFrom(bytes);
        long id =
            switch (event.getEventType()) {
              case EVENT_TYPE_ACTIVITY_TASK_COMPLETED ->
                  event.getActivityTaskCompletedEventAttributes().getScheduledEventId();
              case EVENT_TYPE_ACTIVITY_TASK_FAILED -> event.getActivityTaskFailedEventAttributes().getScheduledEventId();
              case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT ->
                  event.getActivityTaskTimedOutEventAttributes().getScheduledEventId();
              case EVENT_TYPE_ACTIVITY_TASK_CANCELED ->
                  event.getActivityTaskCanceledEventAttributes().getScheduledEventId();
              default -> 0;
            };
        if (id == scheduledEventId) {
          return true;
        }
      } catch (InvalidProtocolBufferException ex) {
        throw new IllegalStateException("buffered event is unreadable", ex);
      }
    }
    return false;
  }

  /** A retry backoff ended: the attempt goes into its task queue. */
  static void retryTimerFired(Execution e, long scheduledEventId, int attempt) {
    e.deleteTimer(retryKey(scheduledEventId, attempt));
    ActivityInfo a = e.state.activities.get(scheduledEventId);
    if (a == null || !a.waitingForRetry || a.attempt != attempt || a.paused) {
      return;
    }
    enqueue(e, a);
  }

  /** A timeout timer of the activity fired; stale ones (older attempt, moved deadline) do nothing. */
  static void timeoutFired(Execution e, TimeoutType type, long scheduledEventId, int attempt, String timerKey) {
    ActivityInfo a = e.state.isRunning() ? e.state.activities.get(scheduledEventId) : null;
    if (a == null) {
      e.deleteTimer(timerKey);
      return;
    }
    switch (type) {
      case TIMEOUT_TYPE_SCHEDULE_TO_START -> {
        if (a.started || a.waitingForRetry || a.attempt != attempt) {
          e.deleteTimer(timerKey);
          return;
        }
      }
      case TIMEOUT_TYPE_START_TO_CLOSE -> {
        if (!a.started || a.attempt != attempt) {
          e.deleteTimer(timerKey);
          return;
        }
      }
      case TIMEOUT_TYPE_HEARTBEAT -> {
        if (!a.started || a.attempt != attempt) {
          e.deleteTimer(timerKey);
          return;
        }
        long deadline = Math.max(a.startedTime, a.lastHeartbeatTime) + a.heartbeatMillis;
        if (deadline > e.now) {
          e.putTimer(timerKey, deadline);
          return;
        }
      }
      default -> {}
    }
    e.deleteTimer(timerKey);
    timeOut(e, a, type);
  }

  private static void timeOut(Execution e, ActivityInfo a, TimeoutType type) {
    TimeoutFailureInfo.Builder info = TimeoutFailureInfo.newBuilder().setTimeoutType(type);
    if (a.heartbeatDetails != null) {
      info.setLastHeartbeatDetails(Protos.parse(Payloads.parser(), a.heartbeatDetails, Payloads.getDefaultInstance()));
    }
    Failure.Builder failure =
        Failure.newBuilder()
            .setMessage("activity " + ActivityRetries.timeoutName(type) + " timeout")
            .setSource("Server")
            .setTimeoutFailureInfo(info);
    if (a.lastFailure != null) {
      failure.setCause(Protos.parse(Failure.parser(), a.lastFailure, Failure.getDefaultInstance()));
    }
    ActivityRetries.Decision decision = ActivityRetries.decide(a, failure.build(), type, e.now);
    if (decision.retry()) {
      retry(e, a, failure.build(), decision.delayMillis());
      return;
    }
    if (decision.state() == RetryState.RETRY_STATE_TIMEOUT
        && (type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE || type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT)) {
      failure
          .setMessage("Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying")
          .setTimeoutFailureInfo(info.setTimeoutType(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE));
    }
    Failure finalFailure = failure.build();
    close(
        e,
        a,
        startedId ->
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
                .setActivityTaskTimedOutEventAttributes(
                    ActivityTaskTimedOutEventAttributes.newBuilder()
                        .setFailure(finalFailure)
                        .setScheduledEventId(a.scheduledEventId)
                        .setStartedEventId(startedId)
                        .setRetryState(decision.state())),
        true);
  }

  // ---- operator actions: pause, unpause, reset, update options --------------------------------

  /**
   * Pauses an activity: a queued attempt leaves its queue; a running one keeps running and learns
   * of the pause from its next heartbeat; a failed attempt is not retried until unpaused.
   */
  static void pause(Execution e, ActivityInfo a, String identity, String reason) {
    if (a.paused) {
      throw Errors.failedPrecondition("activity is already paused");
    }
    a.paused = true;
    a.pausedTime = e.now;
    a.pausedBy = identity;
    a.pauseReason = reason;
    e.markChanged();
    if (!a.started && !a.waitingForRetry) {
      e.deleteTask(TaskKind.ACTIVITY, a.scheduledEventId);
      e.deleteTimer(scheduleToStartKey(a.scheduledEventId, a.attempt));
      a.waitingForRetry = true;
    }
  }

  /** Ends a pause; an attempt that was waiting goes into its queue now. */
  static void unpause(Execution e, ActivityInfo a, boolean resetAttempts, boolean resetHeartbeat) {
    if (!a.paused) {
      return;
    }
    a.paused = false;
    a.pauseReason = "";
    a.pausedBy = "";
    a.pausedTime = 0;
    e.markChanged();
    if (resetAttempts && !a.started) {
      a.attempt = 1;
    }
    if (resetHeartbeat) {
      a.heartbeatDetails = null;
    }
    if (a.waitingForRetry && !a.started) {
      e.deleteTimer(retryKey(a.scheduledEventId, a.attempt));
      enqueue(e, a);
    }
  }

  /**
   * Resets an activity to its first attempt. A running attempt goes on (and may still succeed)
   * but its heartbeats report the reset; the next attempt is attempt 1.
   */
  static void reset(Execution e, ActivityInfo a, boolean resetHeartbeat, boolean keepPaused) {
    e.markChanged();
    if (resetHeartbeat) {
      a.heartbeatDetails = null;
    }
    if (a.started) {
      a.resetRequested = true;
    } else {
      int previous = a.attempt;
      e.deleteTimer(retryKey(a.scheduledEventId, previous));
      e.deleteTimer(scheduleToStartKey(a.scheduledEventId, previous));
      a.attempt = 1;
      if (!a.waitingForRetry) {
        // The queued task is replaced by one for attempt 1.
        e.deleteTask(TaskKind.ACTIVITY, a.scheduledEventId);
        a.waitingForRetry = true;
      }
    }
    if (!keepPaused) {
      a.paused = false;
      a.pauseReason = "";
    }
    if (!a.paused && !a.started && a.waitingForRetry) {
      enqueue(e, a);
    }
  }

  /** The options an operator can change, as they are now. */
  static io.temporal.api.activity.v1.ActivityOptions options(ActivityInfo a) {
    return io.temporal.api.activity.v1.ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueue.newBuilder().setName(a.taskQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
        .setScheduleToCloseTimeout(Protos.duration(a.scheduleToCloseMillis))
        .setScheduleToStartTimeout(Protos.duration(a.scheduleToStartMillis))
        .setStartToCloseTimeout(Protos.duration(a.startToCloseMillis))
        .setHeartbeatTimeout(Protos.duration(a.heartbeatMillis))
        .setRetryPolicy(Protos.parse(RetryPolicy.parser(), a.retryPolicy, RetryPolicy.getDefaultInstance()))
        .build();
  }

  /**
   * Applies the fields named by the mask (snake or camel case), re-validates, and re-arms the
   * timers of the current state with the new values.
   */
  static io.temporal.api.activity.v1.ActivityOptions updateOptions(
      Execution e, ActivityInfo a, io.temporal.api.activity.v1.ActivityOptions update, java.util.List<String> paths) {
    RetryPolicy.Builder retry = Protos.parse(RetryPolicy.parser(), a.retryPolicy, RetryPolicy.getDefaultInstance()).toBuilder();
    long s2c = a.scheduleToCloseMillis;
    long s2s = a.scheduleToStartMillis;
    long stc = a.startToCloseMillis;
    long hb = a.heartbeatMillis;
    String queue = a.taskQueue;
    for (String raw : paths) {
      String path = raw.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
      switch (path) {
        case "task_queue.name", "task_queue" -> queue = update.getTaskQueue().getName();
        case "schedule_to_close_timeout" -> s2c = Protos.millis(update.getScheduleToCloseTimeout());
        case "schedule_to_start_timeout" -> s2s = Protos.millis(update.getScheduleToStartTimeout());
        case "start_to_close_timeout" -> stc = Protos.millis(update.getStartToCloseTimeout());
        case "heartbeat_timeout" -> hb = Protos.millis(update.getHeartbeatTimeout());
        case "retry_policy" -> retry = update.getRetryPolicy().toBuilder();
        case "retry_policy.initial_interval" -> retry.setInitialInterval(update.getRetryPolicy().getInitialInterval());
        case "retry_policy.backoff_coefficient" -> retry.setBackoffCoefficient(update.getRetryPolicy().getBackoffCoefficient());
        case "retry_policy.maximum_interval" -> retry.setMaximumInterval(update.getRetryPolicy().getMaximumInterval());
        case "retry_policy.maximum_attempts" -> retry.setMaximumAttempts(update.getRetryPolicy().getMaximumAttempts());
        default -> throw Errors.invalidArgument("update_mask: unknown path " + raw);
      }
    }
    if (queue.isEmpty()) {
      throw Errors.invalidArgument("activity_options.task_queue.name must not be empty");
    }
    if (s2c < 0 || s2s < 0 || stc < 0 || hb < 0) {
      throw Errors.invalidArgument("activity_options: timeouts must not be negative");
    }
    if (s2c == 0 && stc == 0) {
      throw Errors.invalidArgument("activity_options: a valid StartToCloseTimeout or ScheduleToCloseTimeout must be set");
    }
    if (s2c > 0) {
      s2s = s2s > 0 ? Math.min(s2s, s2c) : s2c;
      stc = stc > 0 ? Math.min(stc, s2c) : s2c;
    }
    hb = Math.min(hb, stc);
    RetryPolicy policy;
    try {
      policy = ActivityRetries.withDefaults(retry.build());
    } catch (BadCommandException bad) {
      throw Errors.invalidArgument("activity_options." + bad.getMessage());
    }
    a.taskQueue = queue;
    a.scheduleToCloseMillis = s2c;
    a.scheduleToStartMillis = s2s;
    a.startToCloseMillis = stc;
    a.heartbeatMillis = hb;
    a.retryPolicy = policy.toByteArray();
    e.markChanged();
    if (s2c > 0) {
      e.putTimer(scheduleToCloseKey(a.scheduledEventId), a.firstScheduledTime + s2c);
    } else {
      e.deleteTimer(scheduleToCloseKey(a.scheduledEventId));
    }
    if (a.started) {
      e.putTimer(startToCloseKey(a.scheduledEventId, a.attempt), a.startedTime + stc);
      if (hb > 0) {
        e.putTimer(heartbeatKey(a.scheduledEventId, a.attempt), Math.max(a.startedTime, a.lastHeartbeatTime) + hb);
      }
    } else if (!a.waitingForRetry && !a.paused) {
      // Re-queue so the task lands on the (possibly new) queue with the new schedule-to-start.
      e.deleteTask(TaskKind.ACTIVITY, a.scheduledEventId);
      enqueue(e, a);
    }
    return options(a);
  }
}
