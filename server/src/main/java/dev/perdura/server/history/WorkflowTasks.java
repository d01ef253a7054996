package dev.perdura.server.history;

import dev.perdura.server.common.Errors;
import dev.perdura.server.common.TaskToken;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.WorkflowTaskCompletedEventAttributes;
import io.temporal.api.history.v1.WorkflowTaskFailedEventAttributes;
import io.temporal.api.history.v1.WorkflowTaskStartedEventAttributes;
import io.temporal.api.history.v1.WorkflowTaskTimedOutEventAttributes;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import java.util.Optional;

/** The workflow task lifecycle: started by a poll, then completed, failed or timed out. */
final class WorkflowTasks {
  private WorkflowTasks() {}

  static String timeoutTimerKey(long scheduledEventId, int attempt) {
    return "wft-timeout:" + scheduledEventId + ":" + attempt;
  }

  static String stickyTimeoutTimerKey(long scheduledEventId, int attempt) {
    return "wft-sticky:" + scheduledEventId + ":" + attempt;
  }

  /** The run forgets its sticky queue: tasks go to the normal queue with full history again. */
  static void clearStickiness(ExecutionState s) {
    s.stickyQueue = null;
    s.stickyScheduleToStartMillis = 0;
  }

  /**
   * Nobody polled the sticky queue in time (the worker is gone): the task moves to the normal
   * queue, same attempt.
   */
  static void stickyTimeout(Execution e, long scheduledEventId, int attempt) {
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    e.deleteTimer(stickyTimeoutTimerKey(scheduledEventId, attempt));
    if (!s.isRunning()
        || wft == null
        || wft.started
        || !wft.sticky
        || wft.scheduledEventId != scheduledEventId
        || wft.attempt != attempt) {
      return;
    }
    clearStickiness(s);
    e.deleteTask(TaskKind.WORKFLOW, wft.scheduledEventId);
    s.workflowTask = null;
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
            .setWorkflowTaskTimedOutEventAttributes(
                WorkflowTaskTimedOutEventAttributes.newBuilder()
                    .setScheduledEventId(wft.scheduledEventId)
                    .setTimeoutType(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)));
    Runs.scheduleWorkflowTask(e);
  }

  /** What a poller needs to build its response once the start is durable. */
  record Started(
      TaskToken token,
      String workflowType,
      String taskQueue,
      long previousStartedEventId,
      long startedEventId,
      int attempt,
      long scheduledTime,
      long startedTime,
      boolean sticky) {}

  /** Records the start of a dispatched task; empty when the task went stale meanwhile. */
  static Optional<Started> start(Tx tx, TaskRow task, String identity, String requestId) {
    Optional<Execution> found = tx.find(task.execution());
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Execution e = found.get();
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    if (!s.isRunning()
        || wft == null
        || wft.started
        || wft.scheduledEventId != task.scheduledEventId()
        || wft.attempt != task.attempt()
        || !wft.taskQueue.equals(task.taskQueue())) {
      return Optional.empty();
    }
    e.deleteTask(TaskKind.WORKFLOW, wft.scheduledEventId);
    return Optional.of(markStarted(e, identity, requestId));
  }

  /** Whether {@code task}, queued by the change being computed, is the run's unstarted workflow task. */
  static boolean isStartable(Execution e, TaskRow task) {
    ExecutionState.WorkflowTaskInfo wft = e.state.workflowTask;
    return e.state.isRunning()
        && wft != null
        && !wft.started
        && wft.scheduledEventId == task.scheduledEventId()
        && wft.attempt == task.attempt()
        && wft.taskQueue.equals(task.taskQueue());
  }

  /**
   * Starts a {@linkplain #isStartable startable} task in the change that queued it, for a poll that
   * waits: the task is never stored or queued.
   */
  static Started startQueued(Execution e, TaskRow task, String identity, String requestId) {
    e.withdrawQueuedTask(task.kind(), task.scheduledEventId());
    return markStarted(e, identity, requestId);
  }

  /**
   * Starts the workflow task a start request just scheduled, for the worker that sent the request
   * (eager workflow start): the task never enters a queue. Empty when no task was scheduled (a
   * start delay).
   */
  static Optional<Started> startEagerly(Execution e, String identity, String requestId) {
    ExecutionState.WorkflowTaskInfo wft = e.state.workflowTask;
    if (wft == null || wft.started || wft.sticky) {
      return Optional.empty();
    }
    if (!e.withdrawQueuedTask(TaskKind.WORKFLOW, wft.scheduledEventId)) {
      return Optional.empty();
    }
    return Optional.of(markStarted(e, identity, requestId));
  }

  private static Started markStarted(Execution e, String identity, String requestId) {
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    if (wft.sticky) {
      e.deleteTimer(stickyTimeoutTimerKey(wft.scheduledEventId, wft.attempt));
    }
    long startedId =
        e.append(
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
                .setWorkflowTaskStartedEventAttributes(
                    WorkflowTaskStartedEventAttributes.newBuilder()
                        .setScheduledEventId(wft.scheduledEventId)
                        .setIdentity(identity)
                        .setRequestId(requestId)
                        .setHistorySizeBytes(s.historySizeBytes)));
    wft.started = true;
    wft.startedEventId = startedId;
    wft.startedTime = e.now;
    e.putTimer(timeoutTimerKey(wft.scheduledEventId, wft.attempt), e.now + wft.startToCloseMillis);
    TaskToken token =
        new TaskToken(
            TaskToken.Kind.WORKFLOW_TASK,
            s.namespace,
            s.workflowId,
            s.runId,
            wft.scheduledEventId,
            startedId,
            wft.attempt,
            "",
            wft.startedTime);
    return new Started(
        token,
        s.workflowType,
        s.taskQueue,
        s.lastCompletedWftStartedId,
        startedId,
        wft.attempt,
        wft.scheduledTime,
        wft.startedTime,
        wft.sticky);
  }

  /** The run and its in-flight workflow task named by a token, or NOT_FOUND. */
  static Execution requireCurrent(Tx tx, TaskToken token) {
    Execution e = tx.require(token.namespace(), token.workflowId(), token.runId());
    ExecutionState.WorkflowTaskInfo wft = e.state.workflowTask;
    if (!e.state.isRunning()
        || wft == null
        || !wft.started
        || wft.scheduledEventId != token.scheduledEventId()
        || wft.startedEventId != token.startedEventId()
        || wft.attempt != token.attempt()
        || (token.startedTimeMillis() != 0 && token.startedTimeMillis() != wft.startedTime)) {
      throw Errors.notFound("Workflow task not found.");
    }
    return e;
  }

  /**
   * Applies a completion. Returns the error to answer with when the completion was turned into a
   * workflow task failure (bad command, unhandled events) — that failure is still written.
   */
  static Optional<StatusRuntimeException> complete(
      Tx tx, TaskToken token, RespondWorkflowTaskCompletedRequest request) {
    Execution e = requireCurrent(tx, token);
    Commands.checkSequence(request.getCommandsList());
    if (Commands.closesRun(request.getCommandsList()) && e.hasBufferedEvents()) {
      fail(
          e,
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
          null,
          request.getIdentity());
      return Optional.of(Errors.invalidArgument("UnhandledCommand"));
    }
    try {
      applyCompletion(tx, e, request);
      return Optional.empty();
    } catch (BadCommandException bad) {
      // Nothing of the completion may land: start over from the state before it.
      tx.discard();
      Execution fresh = requireCurrent(tx, token);
      fail(
          fresh,
          bad.cause(),
          Failure.newBuilder().setMessage(bad.getMessage()).setSource("Server").build(),
          request.getIdentity());
      return Optional.of(Errors.invalidArgument(bad.getMessage()));
    }
  }

  private static void applyCompletion(
      Tx tx, Execution e, RespondWorkflowTaskCompletedRequest request) {
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    WorkflowTaskCompletedEventAttributes.Builder completed =
        WorkflowTaskCompletedEventAttributes.newBuilder()
            .setScheduledEventId(wft.scheduledEventId)
            .setStartedEventId(wft.startedEventId)
            .setIdentity(request.getIdentity());
    if (request.hasSdkMetadata()) {
      completed.setSdkMetadata(request.getSdkMetadata());
    }
    if (request.hasMeteringMetadata()) {
      completed.setMeteringMetadata(request.getMeteringMetadata());
    }
    // The task is no longer in flight: command events and the flush are appended, not buffered.
    s.workflowTask = null;
    e.deleteTimer(timeoutTimerKey(wft.scheduledEventId, wft.attempt));
    long completedId =
        e.append(
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
                .setWorkflowTaskCompletedEventAttributes(completed));
    s.lastCompletedWftStartedId = wft.startedEventId;
    s.workflowTaskAttempt = 1;
    if (request.hasStickyAttributes() && !request.getStickyAttributes().getWorkerTaskQueue().getName().isEmpty()) {
      s.stickyQueue = request.getStickyAttributes().getWorkerTaskQueue().getName();
      s.stickyScheduleToStartMillis = Protos.millis(request.getStickyAttributes().getScheduleToStartTimeout());
    } else {
      clearStickiness(s);
    }
    boolean newTaskNeeded =
        Commands.apply(tx, e, completedId, request.getCommandsList(), request.getIdentity());
    if (!s.isRunning()) {
      // The run closed: nothing may run for it, eagerly started or not.
      e.eagerStarts.clear();
      return;
    }
    boolean hadBuffered = e.hasBufferedEvents();
    e.flushBufferedEvents();
    if (hadBuffered || newTaskNeeded || request.getForceCreateNewWorkflowTask()) {
      Runs.scheduleWorkflowTask(e);
    }
  }

  /** Writes WorkflowTaskFailed, flushes what was buffered and schedules the next attempt. */
  static void fail(Execution e, WorkflowTaskFailedCause cause, Failure failure, String identity) {
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    WorkflowTaskFailedEventAttributes.Builder attributes =
        WorkflowTaskFailedEventAttributes.newBuilder()
            .setScheduledEventId(wft.scheduledEventId)
            .setStartedEventId(wft.startedEventId)
            .setCause(cause)
            .setIdentity(identity);
    if (failure != null) {
      attributes.setFailure(failure);
    }
    s.workflowTask = null;
    clearStickiness(s);
    e.deleteTimer(timeoutTimerKey(wft.scheduledEventId, wft.attempt));
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
            .setWorkflowTaskFailedEventAttributes(attributes));
    e.flushBufferedEvents();
    s.workflowTaskAttempt = wft.attempt + 1;
    Runs.scheduleWorkflowTask(e);
  }

  /** The start-to-close timer of a workflow task fired. */
  static void timeout(Execution e, long scheduledEventId, int attempt) {
    ExecutionState s = e.state;
    ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
    e.deleteTimer(timeoutTimerKey(scheduledEventId, attempt));
    if (!s.isRunning()
        || wft == null
        || !wft.started
        || wft.scheduledEventId != scheduledEventId
        || wft.attempt != attempt) {
      return;
    }
    s.workflowTask = null;
    clearStickiness(s);
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
            .setWorkflowTaskTimedOutEventAttributes(
                WorkflowTaskTimedOutEventAttributes.newBuilder()
                    .setScheduledEventId(wft.scheduledEventId)
                    .setStartedEventId(wft.startedEventId)
                    .setTimeoutType(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)));
    e.flushBufferedEvents();
    s.workflowTaskAttempt = wft.attempt + 1;
    Runs.scheduleWorkflowTask(e);
  }
}
