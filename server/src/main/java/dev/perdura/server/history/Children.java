package dev.perdura.server.history;

import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.command.v1.StartChildWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.ChildWorkflowExecutionCanceledEventAttributes;
import io.temporal.api.history.v1.ChildWorkflowExecutionCompletedEventAttributes;
import io.temporal.api.history.v1.ChildWorkflowExecutionFailedEventAttributes;
import io.temporal.api.history.v1.ChildWorkflowExecutionStartedEventAttributes;
import io.temporal.api.history.v1.ChildWorkflowExecutionTerminatedEventAttributes;
import io.temporal.api.history.v1.ChildWorkflowExecutionTimedOutEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.StartChildWorkflowExecutionFailedEventAttributes;
import io.temporal.api.history.v1.StartChildWorkflowExecutionInitiatedEventAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;

/**
 * Child workflows, the parent's side. A child crosses shards (it lives on its own workflow id's
 * shard), so each step that touches both runs goes through a durable timer written with the change
 * that calls for it, fired at once: the timer row is the outbox, and the history service carries
 * the step out (start the child, tell the parent of its close, apply the parent close policy),
 * deleting the timer only after the step is done. A crash in between runs the step again, and each
 * step is idempotent: the child's start request id is the parent run and initiated event id, and
 * the parent ignores news of a child it no longer waits for.
 */
final class Children {
  static final String START_TIMER_PREFIX = "child-start";
  /** On a closed child run: tell the parent. */
  static final String PARENT_NOTIFY_TIMER = "parent-notify";
  /** On a closed parent run: apply the parent close policy to its open children. */
  static final String CHILDREN_CLOSE_TIMER = "children-close";

  private Children() {}

  static String startTimerKey(long initiatedEventId) {
    return START_TIMER_PREFIX + ":" + initiatedEventId;
  }

  private static BadCommandException bad(String message) {
    return new BadCommandException(
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
        "StartChildWorkflowExecution: " + message);
  }

  /** The command: records the initiation and arms the timer that starts the child. */
  static void initiate(Execution e, long completedId, StartChildWorkflowExecutionCommandAttributes a) {
    ExecutionState s = e.state;
    if (a.getWorkflowId().isEmpty()) {
      throw bad("workflow_id is not set");
    }
    if (a.getWorkflowType().getName().isEmpty()) {
      throw bad("workflow_type.name is not set");
    }
    if (!a.getNamespace().isEmpty() && !a.getNamespace().equals(s.namespace)) {
      throw bad("namespace " + a.getNamespace() + " is not the parent's (" + s.namespace
          + "); children in other namespaces are not supported");
    }
    if (!a.getCronSchedule().isEmpty()) {
      throw bad("cron_schedule is not supported");
    }
    if (a.hasRetryPolicy()) {
      NewRuns.workflowRetryPolicy(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
          "StartChildWorkflowExecution: ", a.getRetryPolicy());
    }
    for (ExecutionState.ChildInfo pending : s.children.values()) {
      if (pending.workflowId.equals(a.getWorkflowId())) {
        throw bad("workflow_id " + a.getWorkflowId() + " is already used by a pending child of this run");
      }
    }
    String queue = a.getTaskQueue().getName().isEmpty() ? s.taskQueue : a.getTaskQueue().getName();
    StartChildWorkflowExecutionCommandAttributes command = a.toBuilder()
        .setNamespace(s.namespace)
        .setTaskQueue(TaskQueue.newBuilder().setName(queue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
        .build();
    StartChildWorkflowExecutionInitiatedEventAttributes.Builder initiated =
        StartChildWorkflowExecutionInitiatedEventAttributes.newBuilder()
            .setNamespace(s.namespace)
            .setWorkflowId(a.getWorkflowId())
            .setWorkflowType(a.getWorkflowType())
            .setTaskQueue(command.getTaskQueue())
            .setWorkflowExecutionTimeout(a.getWorkflowExecutionTimeout())
            .setWorkflowRunTimeout(a.getWorkflowRunTimeout())
            .setWorkflowTaskTimeout(a.getWorkflowTaskTimeout())
            .setParentClosePolicy(a.getParentClosePolicy())
            .setControl(a.getControl())
            .setWorkflowTaskCompletedEventId(completedId)
            .setWorkflowIdReusePolicy(a.getWorkflowIdReusePolicy());
    if (a.hasInput()) {
      initiated.setInput(a.getInput());
    }
    if (a.hasRetryPolicy()) {
      initiated.setRetryPolicy(a.getRetryPolicy());
    }
    if (a.hasHeader()) {
      initiated.setHeader(a.getHeader());
    }
    if (a.hasMemo()) {
      initiated.setMemo(a.getMemo());
    }
    if (a.hasSearchAttributes()) {
      initiated.setSearchAttributes(a.getSearchAttributes());
    }
    if (a.hasPriority()) {
      initiated.setPriority(a.getPriority());
    }
    long id = e.append(HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
        .setStartChildWorkflowExecutionInitiatedEventAttributes(initiated));
    ExecutionState.ChildInfo child = new ExecutionState.ChildInfo();
    child.initiatedEventId = id;
    child.namespace = s.namespace;
    child.workflowId = a.getWorkflowId();
    child.workflowType = a.getWorkflowType().getName();
    child.parentClosePolicy = a.getParentClosePolicyValue();
    child.command = command.toByteArray();
    s.children.put(id, child);
    e.putTimer(startTimerKey(id), e.now);
  }

  static StartChildWorkflowExecutionCommandAttributes command(ExecutionState.ChildInfo child) {
    try {
      return StartChildWorkflowExecutionCommandAttributes.parseFrom(child.command);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored child command of " + child.workflowId + " is unreadable", e);
    }
  }

  /** The parent link a continued run of a child carries on. */
  static NewRun.ParentLink parentOf(ExecutionState s) {
    return s.parentWorkflowId == null
        ? null
        : new NewRun.ParentLink(s.parentNamespace, s.parentWorkflowId, s.parentRunId, s.parentInitiatedEventId);
  }

  /** Whether closing the run must terminate or cancel some of its children. */
  static boolean closeReachesChildren(ExecutionState s) {
    return s.children.values().stream()
        .anyMatch(c -> !c.runId.isEmpty() && policy(c) != ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON);
  }

  /** The policy in effect: TERMINATE when unspecified, as in Temporal. */
  static ParentClosePolicy policy(ExecutionState.ChildInfo child) {
    return policy(child.parentClosePolicy);
  }

  /** The policy in effect for a {@code ParentClosePolicy} number: TERMINATE when unspecified. */
  static ParentClosePolicy policy(int number) {
    ParentClosePolicy policy = ParentClosePolicy.forNumber(number);
    return policy == null || policy == ParentClosePolicy.PARENT_CLOSE_POLICY_UNSPECIFIED
        ? ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
        : policy;
  }

  private static WorkflowExecution execution(ExecutionState.ChildInfo child) {
    return WorkflowExecution.newBuilder().setWorkflowId(child.workflowId).setRunId(child.runId).build();
  }

  private static WorkflowType type(ExecutionState.ChildInfo child) {
    return WorkflowType.newBuilder().setName(child.workflowType).build();
  }

  /** The child's first run started. */
  static void started(Execution parent, ExecutionState.ChildInfo child, String runId) {
    child.runId = runId;
    parent.appendOrBuffer(HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
        .setChildWorkflowExecutionStartedEventAttributes(ChildWorkflowExecutionStartedEventAttributes.newBuilder()
            .setNamespace(child.namespace)
            .setInitiatedEventId(child.initiatedEventId)
            .setWorkflowExecution(execution(child))
            .setWorkflowType(type(child))));
    // Its id, when not buffered; a buffered one gets its id later, and 0 is reported instead.
    child.startedEventId = parent.state.workflowTaskStarted() ? 0 : parent.state.nextEventId - 1;
    parent.markChanged();
    Runs.scheduleWorkflowTask(parent);
  }

  /** The child could not start: its workflow id is taken. */
  static void startFailed(Execution parent, ExecutionState.ChildInfo child) {
    parent.state.children.remove(child.initiatedEventId);
    parent.appendOrBuffer(HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
        .setStartChildWorkflowExecutionFailedEventAttributes(StartChildWorkflowExecutionFailedEventAttributes.newBuilder()
            .setNamespace(child.namespace)
            .setWorkflowId(child.workflowId)
            .setWorkflowType(type(child))
            .setCause(StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS)
            .setInitiatedEventId(child.initiatedEventId)
            .setControl(command(child).getControl())));
    Runs.scheduleWorkflowTask(parent);
  }

  /** The child's chain closed with {@code closeEvent} (its last run's closing event). */
  static void closed(Execution parent, ExecutionState.ChildInfo child, HistoryEvent closeEvent) {
    parent.state.children.remove(child.initiatedEventId);
    HistoryEvent.Builder event = HistoryEvent.newBuilder();
    switch (closeEvent.getEventType()) {
      case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> {
        var attributes = ChildWorkflowExecutionCompletedEventAttributes.newBuilder()
            .setNamespace(child.namespace).setWorkflowExecution(execution(child)).setWorkflowType(type(child))
            .setInitiatedEventId(child.initiatedEventId).setStartedEventId(child.startedEventId);
        if (closeEvent.getWorkflowExecutionCompletedEventAttributes().hasResult()) {
          attributes.setResult(closeEvent.getWorkflowExecutionCompletedEventAttributes().getResult());
        }
        event.setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)
            .setChildWorkflowExecutionCompletedEventAttributes(attributes);
      }
      case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> event
          .setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED)
          .setChildWorkflowExecutionFailedEventAttributes(ChildWorkflowExecutionFailedEventAttributes.newBuilder()
              .setNamespace(child.namespace).setWorkflowExecution(execution(child)).setWorkflowType(type(child))
              .setInitiatedEventId(child.initiatedEventId).setStartedEventId(child.startedEventId)
              .setFailure(closeEvent.getWorkflowExecutionFailedEventAttributes().getFailure())
              .setRetryState(closeEvent.getWorkflowExecutionFailedEventAttributes().getRetryState()));
      case EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED -> {
        var attributes = ChildWorkflowExecutionCanceledEventAttributes.newBuilder()
            .setNamespace(child.namespace).setWorkflowExecution(execution(child)).setWorkflowType(type(child))
            .setInitiatedEventId(child.initiatedEventId).setStartedEventId(child.startedEventId);
        if (closeEvent.getWorkflowExecutionCanceledEventAttributes().hasDetails()) {
          attributes.setDetails(closeEvent.getWorkflowExecutionCanceledEventAttributes().getDetails());
        }
        event.setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED)
            .setChildWorkflowExecutionCanceledEventAttributes(attributes);
      }
      case EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT -> event
          .setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT)
          .setChildWorkflowExecutionTimedOutEventAttributes(ChildWorkflowExecutionTimedOutEventAttributes.newBuilder()
              .setNamespace(child.namespace).setWorkflowExecution(execution(child)).setWorkflowType(type(child))
              .setInitiatedEventId(child.initiatedEventId).setStartedEventId(child.startedEventId)
              .setRetryState(closeEvent.getWorkflowExecutionTimedOutEventAttributes().getRetryState()));
      default -> event
          .setEventType(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED)
          .setChildWorkflowExecutionTerminatedEventAttributes(ChildWorkflowExecutionTerminatedEventAttributes.newBuilder()
              .setNamespace(child.namespace).setWorkflowExecution(execution(child)).setWorkflowType(type(child))
              .setInitiatedEventId(child.initiatedEventId).setStartedEventId(child.startedEventId));
    }
    parent.appendOrBuffer(event);
    Runs.scheduleWorkflowTask(parent);
  }
}
