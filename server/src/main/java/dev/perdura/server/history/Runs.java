package dev.perdura.server.history;

import dev.perdura.server.store.TaskKind;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.WorkflowExecutionStartedEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionTerminatedEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionTimedOutEventAttributes;
import io.temporal.api.history.v1.WorkflowTaskFailedEventAttributes;
import io.temporal.api.history.v1.WorkflowTaskScheduledEventAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.enums.v1.TaskQueueKind;
import java.util.UUID;

/** Starting and closing runs, and scheduling their workflow tasks. */
final class Runs {
  static final long DEFAULT_WORKFLOW_TASK_TIMEOUT = 10_000;
  static final long MAX_WORKFLOW_TASK_TIMEOUT = 120_000;
  static final String RUN_TIMEOUT_TIMER = "run-timeout";
  static final String START_BACKOFF_TIMER = "start-backoff";

  private Runs() {}

  /** Creates a run (history: WorkflowExecutionStarted, then its first workflow task). */
  static Execution startRun(Tx tx, NewRun req) {
    long now = tx.now;
    String runId = UUID.randomUUID().toString();
    long executionTimeout = req.executionTimeoutMillis();
    long runTimeout = req.runTimeoutMillis();
    if (runTimeout == 0 || (executionTimeout > 0 && executionTimeout < runTimeout)) {
      runTimeout = executionTimeout;
    }
    long taskTimeout = req.taskTimeoutMillis() == 0 ? DEFAULT_WORKFLOW_TASK_TIMEOUT : req.taskTimeoutMillis();
    taskTimeout = Math.min(taskTimeout, MAX_WORKFLOW_TASK_TIMEOUT);
    if (runTimeout > 0) {
      taskTimeout = Math.min(taskTimeout, runTimeout);
    }
    long executionDeadline = req.executionDeadline();
    if (executionDeadline == 0 && executionTimeout > 0) {
      executionDeadline = now + executionTimeout;
    }
    ExecutionState s = new ExecutionState();
    s.namespace = req.namespace();
    s.workflowId = req.workflowId();
    s.runId = runId;
    s.firstRunId = req.firstRunId().isEmpty() ? runId : req.firstRunId();
    s.workflowType = req.workflowType();
    s.taskQueue = req.taskQueue();
    s.startTime = now;
    s.executionTime = now + req.startDelayMillis();
    s.startRequestId = req.requestId();
    s.workflowTaskTimeoutMillis = taskTimeout;
    s.runTimeoutMillis = runTimeout;
    s.executionTimeoutMillis = executionTimeout;
    s.executionDeadline = executionDeadline;
    long runDeadline = runTimeout > 0 ? now + runTimeout : 0;
    if (executionDeadline > 0 && (runDeadline == 0 || executionDeadline < runDeadline)) {
      runDeadline = executionDeadline;
    }
    s.runDeadline = runDeadline;
    s.memo = req.memo() == null ? null : req.memo().toByteArray();
    s.searchAttributes = req.searchAttributes() == null ? null : req.searchAttributes().toByteArray();
    s.priority = req.priority() == null ? null : req.priority().toByteArray();
    s.attempt = Math.max(1, req.attempt());
    if (req.retryPolicy() != null) {
      s.retryPolicy = req.retryPolicy().toByteArray();
      s.retryInput = req.input() == null ? null : req.input().toByteArray();
      s.retryHeader = req.header() == null ? null : req.header().toByteArray();
    }
    if (req.parent() != null) {
      s.parentNamespace = req.parent().namespace();
      s.parentWorkflowId = req.parent().workflowId();
      s.parentRunId = req.parent().runId();
      s.parentInitiatedEventId = req.parent().initiatedEventId();
    }
    Execution e = tx.create(s);

    WorkflowExecutionStartedEventAttributes.Builder started =
        WorkflowExecutionStartedEventAttributes.newBuilder()
            .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(s.workflowType))
            .setTaskQueue(TaskQueue.newBuilder().setName(s.taskQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setWorkflowExecutionTimeout(Protos.duration(executionTimeout))
            .setWorkflowRunTimeout(Protos.duration(runTimeout))
            .setWorkflowTaskTimeout(Protos.duration(taskTimeout))
            .setOriginalExecutionRunId(runId)
            .setFirstExecutionRunId(s.firstRunId)
            .setIdentity(req.identity())
            .setAttempt(s.attempt)
            .setWorkflowId(s.workflowId);
    if (req.input() != null) {
      started.setInput(req.input());
    }
    if (!req.continuedFromRunId().isEmpty()) {
      started.setContinuedExecutionRunId(req.continuedFromRunId());
      started.setInitiator(req.initiator());
    }
    if (req.continuedFailure() != null) {
      started.setContinuedFailure(req.continuedFailure());
    }
    if (req.lastCompletionResult() != null) {
      started.setLastCompletionResult(req.lastCompletionResult());
    }
    if (req.retryPolicy() != null) {
      started.setRetryPolicy(req.retryPolicy());
    }
    if (executionDeadline > 0) {
      started.setWorkflowExecutionExpirationTime(Protos.timestamp(executionDeadline));
    }
    if (req.startDelayMillis() > 0) {
      started.setFirstWorkflowTaskBackoff(Protos.duration(req.startDelayMillis()));
    }
    if (req.memo() != null) {
      started.setMemo(req.memo());
    }
    if (req.searchAttributes() != null) {
      started.setSearchAttributes(req.searchAttributes());
    }
    if (req.header() != null) {
      started.setHeader(req.header());
    }
    if (req.priority() != null) {
      started.setPriority(req.priority());
    }
    if (req.parent() != null) {
      started.setParentWorkflowNamespace(req.parent().namespace())
          .setParentWorkflowExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder()
              .setWorkflowId(req.parent().workflowId()).setRunId(req.parent().runId()))
          .setParentInitiatedEventId(req.parent().initiatedEventId());
    }
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
            .setWorkflowExecutionStartedEventAttributes(started));
    if (runDeadline > 0) {
      e.putTimer(RUN_TIMEOUT_TIMER, runDeadline);
    }
    return e;
  }

  /** Schedules the first workflow task, now or after the requested start delay. */
  static void scheduleFirstWorkflowTask(Execution e) {
    if (e.state.executionTime > e.now) {
      e.putTimer(START_BACKOFF_TIMER, e.state.executionTime);
    } else {
      scheduleWorkflowTask(e);
    }
  }

  /**
   * Schedules a workflow task unless one is already scheduled or started (a started one picks up
   * the news when it completes, from the buffered events).
   */
  static void scheduleWorkflowTask(Execution e) {
    ExecutionState s = e.state;
    if (!s.isRunning() || s.workflowTask != null) {
      return;
    }
    if (s.executionTime > e.now) {
      return; // the start backoff timer schedules it
    }
    long id =
        e.append(
            HistoryEvent.newBuilder()
                .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
                .setWorkflowTaskScheduledEventAttributes(
                    WorkflowTaskScheduledEventAttributes.newBuilder()
                        .setTaskQueue(
                            TaskQueue.newBuilder()
                                .setName(s.taskQueue)
                                .setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
                        .setStartToCloseTimeout(Protos.duration(s.workflowTaskTimeoutMillis))
                        .setAttempt(s.workflowTaskAttempt)));
    ExecutionState.WorkflowTaskInfo task = new ExecutionState.WorkflowTaskInfo();
    task.scheduledEventId = id;
    task.attempt = s.workflowTaskAttempt;
    task.scheduledTime = e.now;
    task.startToCloseMillis = s.workflowTaskTimeoutMillis;
    s.workflowTask = task;
    dispatchWorkflowTask(e, task);
  }

  /**
   * Puts the workflow task into the sticky queue of the worker that has the run cached (with a
   * schedule-to-start deadline, after which it falls back), or else into the normal queue.
   */
  static void dispatchWorkflowTask(Execution e, ExecutionState.WorkflowTaskInfo task) {
    ExecutionState s = e.state;
    task.sticky = s.stickyQueue != null && !s.stickyQueue.isEmpty();
    task.taskQueue = task.sticky ? s.stickyQueue : s.taskQueue;
    e.putTask(TaskKind.WORKFLOW, task.taskQueue, task.scheduledEventId, task.attempt, s.priority);
    if (task.sticky) {
      e.putTimer(
          WorkflowTasks.stickyTimeoutTimerKey(task.scheduledEventId, task.attempt),
          e.now + Math.max(1000, s.stickyScheduleToStartMillis));
    }
  }

  /**
   * Ends a workflow task that is in flight because the run is closing from outside (terminate,
   * timeout): the task is failed so that its buffered events land before the closing event.
   */
  static void failInFlightWorkflowTask(Execution e, String identity) {
    ExecutionState s = e.state;
    if (s.workflowTaskStarted()) {
      ExecutionState.WorkflowTaskInfo task = s.workflowTask;
      s.workflowTask = null;
      e.append(
          HistoryEvent.newBuilder()
              .setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
              .setWorkflowTaskFailedEventAttributes(
                  WorkflowTaskFailedEventAttributes.newBuilder()
                      .setScheduledEventId(task.scheduledEventId)
                      .setStartedEventId(task.startedEventId)
                      .setCause(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND)
                      .setIdentity(identity)));
      e.flushBufferedEvents();
    } else {
      e.flushBufferedEvents();
    }
  }

  /** Appends the closing event and drops everything pending of the run. */
  static void close(Execution e, int status, HistoryEvent.Builder closingEvent) {
    ExecutionState s = e.state;
    e.append(closingEvent);
    s.status = status;
    s.closeTime = e.now;
    s.workflowTask = null;
    s.bufferedEvents.clear();
    s.activities.clear();
    s.timers.clear();
    // Undelivered signals and cancel requests die with the run (their timers are cleared with it).
    s.externals.clear();
    e.clearTasksAndTimers();
    // Written after the clear, so they survive it: the parent hears of the close, and the children
    // the parent close policy reaches are terminated or cancelled, by the history service.
    // A run continued by another (continue-as-new, a retry) leaves the parent to hear of the last one.
    if (s.parentWorkflowId != null && s.continuedRunId == null) {
      e.putTimer(Children.PARENT_NOTIFY_TIMER, e.now);
    }
    if (Children.closeReachesChildren(s)) {
      e.putTimer(Children.CHILDREN_CLOSE_TIMER, e.now);
    } else {
      s.children.clear();
    }
  }

  static void terminate(Execution e, String reason, Payloads details, String identity) {
    failInFlightWorkflowTask(e, identity);
    WorkflowExecutionTerminatedEventAttributes.Builder attributes =
        WorkflowExecutionTerminatedEventAttributes.newBuilder().setReason(reason).setIdentity(identity);
    if (details != null) {
      attributes.setDetails(details);
    }
    close(
        e,
        Statuses.TERMINATED,
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
            .setWorkflowExecutionTerminatedEventAttributes(attributes));
  }

  /**
   * The run timed out. Its retry policy may start another attempt, unless the whole execution's
   * deadline is what passed.
   */
  static void timeOut(Tx tx, Execution e) {
    failInFlightWorkflowTask(e, "history-service");
    ExecutionState s = e.state;
    boolean executionOver = s.executionDeadline > 0 && s.executionDeadline <= e.now;
    WorkflowExecutionTimedOutEventAttributes.Builder attributes = WorkflowExecutionTimedOutEventAttributes.newBuilder();
    if (executionOver) {
      attributes.setRetryState(RetryState.RETRY_STATE_TIMEOUT);
    } else {
      Failure timeout = Failure.newBuilder().setMessage("workflow run timed out").setSource("Server")
          .setTimeoutFailureInfo(io.temporal.api.failure.v1.TimeoutFailureInfo.newBuilder()
              .setTimeoutType(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE))
          .build();
      Retry retry = retry(tx, e, timeout, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);
      attributes.setRetryState(retry.state());
      retry.newRunId().ifPresent(attributes::setNewExecutionRunId);
    }
    close(
        e,
        Statuses.TIMED_OUT,
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)
            .setWorkflowExecutionTimedOutEventAttributes(attributes));
  }

  /** What the retry policy made of a failed or timed-out run. */
  record Retry(RetryState state, java.util.Optional<String> newRunId) {}

  /**
   * Starts the next attempt of a failed or timed-out run when its retry policy allows one (same
   * input, header, memo and search attributes, first workflow task after the backoff, the chain's
   * execution deadline); call before closing the run, whose closing event then names the new run.
   */
  static Retry retry(Tx tx, Execution e, Failure failure, TimeoutType timeout) {
    ExecutionState s = e.state;
    ActivityRetries.Decision decision =
        ActivityRetries.decideRun(s.retryPolicy, s.attempt, failure, timeout, s.executionDeadline, e.now);
    if (!decision.retry()) {
      return new Retry(decision.state(), java.util.Optional.empty());
    }
    NewRun next = new NewRun(
        s.namespace,
        s.workflowId,
        s.workflowType,
        s.taskQueue,
        Protos.parse(io.temporal.api.common.v1.Payloads.parser(), s.retryInput, null),
        s.executionTimeoutMillis,
        s.runTimeoutMillis,
        s.workflowTaskTimeoutMillis,
        "history-service",
        UUID.randomUUID().toString(),
        Protos.parse(io.temporal.api.common.v1.RetryPolicy.parser(), s.retryPolicy, null),
        Protos.parse(io.temporal.api.common.v1.Memo.parser(), s.memo, null),
        Protos.parse(io.temporal.api.common.v1.SearchAttributes.parser(), s.searchAttributes, null),
        Protos.parse(io.temporal.api.common.v1.Header.parser(), s.retryHeader, null),
        Protos.parse(io.temporal.api.common.v1.Priority.parser(), s.priority, null),
        decision.delayMillis(),
        s.runId,
        s.firstRunId,
        s.executionDeadline,
        io.temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
        failure,
        null,
        s.attempt + 1,
        Children.parentOf(s));
    Execution nextRun = startRun(tx, next);
    scheduleFirstWorkflowTask(nextRun);
    s.continuedRunId = nextRun.state.runId;
    return new Retry(RetryState.RETRY_STATE_IN_PROGRESS, java.util.Optional.of(nextRun.state.runId));
  }
}
