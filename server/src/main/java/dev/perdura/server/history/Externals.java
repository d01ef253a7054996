package dev.perdura.server.history;

import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.command.v1.RequestCancelExternalWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.SignalExternalWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.CancelExternalWorkflowExecutionFailedCause;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.SignalExternalWorkflowExecutionFailedCause;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.ExternalWorkflowExecutionCancelRequestedEventAttributes;
import io.temporal.api.history.v1.ExternalWorkflowExecutionSignaledEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.RequestCancelExternalWorkflowExecutionFailedEventAttributes;
import io.temporal.api.history.v1.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes;
import io.temporal.api.history.v1.SignalExternalWorkflowExecutionFailedEventAttributes;
import io.temporal.api.history.v1.SignalExternalWorkflowExecutionInitiatedEventAttributes;
import io.temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest;

/**
 * Signals and cancel requests a workflow sends to another workflow (its children included). The
 * target may live on another shard, so delivery goes through a durable timer like the steps of
 * {@link Children}: the command writes the initiated event and an {@code external:<id>} timer due
 * now; the history service delivers to the target (deduplicated by a request id made of the source
 * run and the initiated event id, so a repeat after a crash delivers once) and then records the
 * outcome on the source.
 */
@SuppressWarnings("deprecation") // control is deprecated in the API but still part of these events
final class Externals {
  static final String TIMER_PREFIX = "external";

  private Externals() {}

  static String timerKey(long initiatedEventId) {
    return TIMER_PREFIX + ":" + initiatedEventId;
  }

  private static void checkTarget(ExecutionState s, String namespace, String workflowId, WorkflowTaskFailedCause cause,
      String command) {
    if (workflowId.isEmpty()) {
      throw new BadCommandException(cause, command + ": workflow_id is not set");
    }
    if (!namespace.isEmpty() && !namespace.equals(s.namespace)) {
      throw new BadCommandException(cause, command + ": namespace " + namespace + " is not the sender's ("
          + s.namespace + "); other namespaces are not supported");
    }
  }

  static void initiateCancel(Execution e, long completedId, RequestCancelExternalWorkflowExecutionCommandAttributes a) {
    ExecutionState s = e.state;
    checkTarget(s, a.getNamespace(), a.getWorkflowId(),
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
        "RequestCancelExternalWorkflowExecution");
    long id = e.append(HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
        .setRequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
            RequestCancelExternalWorkflowExecutionInitiatedEventAttributes.newBuilder()
                .setWorkflowTaskCompletedEventId(completedId)
                .setNamespace(s.namespace)
                .setWorkflowExecution(WorkflowExecution.newBuilder()
                    .setWorkflowId(a.getWorkflowId()).setRunId(a.getRunId()))
                .setControl(a.getControl())
                .setChildWorkflowOnly(a.getChildWorkflowOnly())
                .setReason(a.getReason())));
    track(e, id, true, a.getWorkflowId(), a.getRunId(), a.getChildWorkflowOnly(), a.toByteArray());
  }

  static void initiateSignal(Execution e, long completedId, SignalExternalWorkflowExecutionCommandAttributes a) {
    ExecutionState s = e.state;
    var cause = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
    checkTarget(s, a.getNamespace(), a.getExecution().getWorkflowId(), cause, "SignalExternalWorkflowExecution");
    if (a.getSignalName().isEmpty()) {
      throw new BadCommandException(cause, "SignalExternalWorkflowExecution: signal_name is not set");
    }
    SignalExternalWorkflowExecutionInitiatedEventAttributes.Builder initiated =
        SignalExternalWorkflowExecutionInitiatedEventAttributes.newBuilder()
            .setWorkflowTaskCompletedEventId(completedId)
            .setNamespace(s.namespace)
            .setWorkflowExecution(a.getExecution())
            .setSignalName(a.getSignalName())
            .setControl(a.getControl())
            .setChildWorkflowOnly(a.getChildWorkflowOnly());
    if (a.hasInput()) {
      initiated.setInput(a.getInput());
    }
    if (a.hasHeader()) {
      initiated.setHeader(a.getHeader());
    }
    long id = e.append(HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
        .setSignalExternalWorkflowExecutionInitiatedEventAttributes(initiated));
    track(e, id, false, a.getExecution().getWorkflowId(), a.getExecution().getRunId(), a.getChildWorkflowOnly(),
        a.toByteArray());
  }

  private static void track(Execution e, long id, boolean cancel, String workflowId, String runId,
      boolean childWorkflowOnly, byte[] command) {
    ExecutionState.ExternalInfo x = new ExecutionState.ExternalInfo();
    x.initiatedEventId = id;
    x.cancel = cancel;
    x.namespace = e.state.namespace;
    x.workflowId = workflowId;
    x.runId = runId;
    x.childWorkflowOnly = childWorkflowOnly;
    x.command = command;
    e.state.externals.put(id, x);
    e.putTimer(timerKey(id), e.now);
  }

  /** The request id that makes a delivery happen once, however often it is attempted. */
  static String requestId(ExecutionState source, ExecutionState.ExternalInfo x) {
    return source.runId + ":" + x.initiatedEventId;
  }

  /**
   * Delivers to the target run (inside the target's change); false when there is no such running
   * workflow, or, for a children-only request, it is not a child of the sender.
   */
  static boolean deliver(Execution target, String sourceWorkflowId, String sourceRunId, String requestId,
      ExecutionState.ExternalInfo x, String identity) {
    ExecutionState t = target.state;
    if (!t.isRunning()) {
      return false;
    }
    if (x.childWorkflowOnly && !(sourceWorkflowId.equals(t.parentWorkflowId) && sourceRunId.equals(t.parentRunId))) {
      return false;
    }
    if (t.recentRequestIds.contains(requestId)) {
      return true;
    }
    if (x.cancel) {
      RequestCancelExternalWorkflowExecutionCommandAttributes a = parse(x,
          RequestCancelExternalWorkflowExecutionCommandAttributes.parser());
      t.rememberRequestId(requestId);
      HistoryService.appendCancelRequest(target, a.getReason(), identity);
      target.markChanged();
    } else {
      SignalExternalWorkflowExecutionCommandAttributes a = parse(x, SignalExternalWorkflowExecutionCommandAttributes.parser());
      SignalWorkflowExecutionRequest.Builder signal = SignalWorkflowExecutionRequest.newBuilder()
          .setNamespace(x.namespace)
          .setWorkflowExecution(a.getExecution())
          .setSignalName(a.getSignalName())
          .setIdentity(identity)
          .setRequestId(requestId);
      if (a.hasInput()) {
        signal.setInput(a.getInput());
      }
      if (a.hasHeader()) {
        signal.setHeader(a.getHeader());
      }
      WorkflowStarts.appendSignal(target, signal.build());
    }
    return true;
  }

  private static <T> T parse(ExecutionState.ExternalInfo x, com.google.protobuf.Parser<T> parser) {
    try {
      return parser.parseFrom(x.command);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored command for " + x.workflowId + " is unreadable", e);
    }
  }

  /** Records on the sender whether the delivery happened, and lets its code go on. */
  static void delivered(Execution source, ExecutionState.ExternalInfo x, boolean delivered, String targetRunId) {
    source.state.externals.remove(x.initiatedEventId);
    WorkflowExecution target = WorkflowExecution.newBuilder().setWorkflowId(x.workflowId)
        .setRunId(targetRunId == null ? x.runId : targetRunId).build();
    String control = parseControl(x);
    HistoryEvent.Builder event = HistoryEvent.newBuilder();
    if (x.cancel && delivered) {
      event.setEventType(EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
          .setExternalWorkflowExecutionCancelRequestedEventAttributes(
              ExternalWorkflowExecutionCancelRequestedEventAttributes.newBuilder()
                  .setInitiatedEventId(x.initiatedEventId).setNamespace(x.namespace).setWorkflowExecution(target));
    } else if (x.cancel) {
      event.setEventType(EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
          .setRequestCancelExternalWorkflowExecutionFailedEventAttributes(
              RequestCancelExternalWorkflowExecutionFailedEventAttributes.newBuilder()
                  .setCause(CancelExternalWorkflowExecutionFailedCause
                      .CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND)
                  .setInitiatedEventId(x.initiatedEventId).setNamespace(x.namespace).setWorkflowExecution(target)
                  .setControl(control));
    } else if (delivered) {
      event.setEventType(EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)
          .setExternalWorkflowExecutionSignaledEventAttributes(ExternalWorkflowExecutionSignaledEventAttributes.newBuilder()
              .setInitiatedEventId(x.initiatedEventId).setNamespace(x.namespace).setWorkflowExecution(target)
              .setControl(control));
    } else {
      event.setEventType(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
          .setSignalExternalWorkflowExecutionFailedEventAttributes(
              SignalExternalWorkflowExecutionFailedEventAttributes.newBuilder()
                  .setCause(SignalExternalWorkflowExecutionFailedCause
                      .SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND)
                  .setInitiatedEventId(x.initiatedEventId).setNamespace(x.namespace).setWorkflowExecution(target)
                  .setControl(control));
    }
    source.appendOrBuffer(event);
    Runs.scheduleWorkflowTask(source);
  }

  private static String parseControl(ExecutionState.ExternalInfo x) {
    return x.cancel
        ? parse(x, RequestCancelExternalWorkflowExecutionCommandAttributes.parser()).getControl()
        : parse(x, SignalExternalWorkflowExecutionCommandAttributes.parser()).getControl();
  }
}
