package dev.perdura.server.history;

import dev.perdura.server.common.Errors;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.command.v1.ContinueAsNewWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.Memo;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.SearchAttributes;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.ContinueAsNewInitiator;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.MarkerRecordedEventAttributes;
import io.temporal.api.history.v1.TimerCanceledEventAttributes;
import io.temporal.api.history.v1.TimerStartedEventAttributes;
import io.temporal.api.history.v1.UpsertWorkflowSearchAttributesEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionCanceledEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionCompletedEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionContinuedAsNewEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionFailedEventAttributes;
import io.temporal.api.history.v1.WorkflowPropertiesModifiedEventAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.enums.v1.TaskQueueKind;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns the commands of a workflow task completion into events, in command order (SDKs match
 * them one to one on replay). An invalid command throws {@link BadCommandException}.
 */
final class Commands {
  private Commands() {}

  static boolean isClosing(CommandType type) {
    return switch (type) {
      case COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
          COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
          COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
          COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION ->
          true;
      default -> false;
    };
  }

  static boolean closesRun(List<Command> commands) {
    return commands.stream().anyMatch(c -> isClosing(c.getCommandType()));
  }

  /** A closing command must be the last one; otherwise nothing is written. */
  static void checkSequence(List<Command> commands) {
    for (int i = 0; i < commands.size() - 1; i++) {
      if (isClosing(commands.get(i).getCommandType())) {
        throw Errors.invalidArgument(
            "invalid command sequence: "
                + commands.get(i).getCommandType()
                + " at index "
                + i
                + " must be the last command");
      }
    }
  }

  /**
   * A duration of a command in millis, 0 when unset. An invalid or negative one is a bad command:
   * converting it unchecked would throw deep inside the change and answer with an internal error.
   *
   * @param field the command and field, as the failure message names them
   */
  static long millis(WorkflowTaskFailedCause cause, String field, boolean present, Duration duration) {
    if (!present) {
      return 0;
    }
    if (!Durations.isValid(duration)) {
      throw new BadCommandException(cause, field + " is not a valid duration");
    }
    if (Durations.isNegative(duration)) {
      throw new BadCommandException(cause, field + " must not be negative");
    }
    return Durations.toMillis(duration);
  }

  /** Activities one workflow task completion may start eagerly; the rest go through the queue. */
  static final int MAX_EAGER_ACTIVITIES = 8;

  /**
   * Whether to start an activity for the completing worker: it asked to (it has a free slot and
   * polls the activity's queue) and the activity is on the workflow's own task queue.
   */
  private static boolean eager(Execution e, ScheduleActivityTaskCommandAttributes a) {
    String queue = a.getTaskQueue().getName();
    return a.getRequestEagerExecution()
        && (queue.isEmpty() || queue.equals(e.state.taskQueue))
        && e.eagerStarts.size() < MAX_EAGER_ACTIVITIES;
  }

  /** Applies the commands; returns whether they require a new workflow task right away. */
  static boolean apply(Tx tx, Execution e, long completedId, List<Command> commands, String identity) {
    boolean newTask = false;
    for (Command command : commands) {
      switch (command.getCommandType()) {
        case COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK -> {
          ScheduleActivityTaskCommandAttributes attributes = command.getScheduleActivityTaskCommandAttributes();
          Activities.schedule(e, completedId, attributes, eager(e, attributes) ? identity : null);
        }
        case COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK ->
            newTask |=
                Activities.requestCancel(
                    e, completedId, command.getRequestCancelActivityTaskCommandAttributes().getScheduledEventId());
        case COMMAND_TYPE_START_TIMER -> startTimer(e, completedId, command);
        case COMMAND_TYPE_CANCEL_TIMER -> cancelTimer(e, completedId, command, identity);
        case COMMAND_TYPE_RECORD_MARKER -> recordMarker(e, completedId, command);
        case COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES -> upsertSearchAttributes(e, completedId, command);
        case COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES -> modifyProperties(e, completedId, command);
        case COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION -> {
          WorkflowExecutionCompletedEventAttributes.Builder attributes =
              WorkflowExecutionCompletedEventAttributes.newBuilder()
                  .setWorkflowTaskCompletedEventId(completedId);
          if (command.getCompleteWorkflowExecutionCommandAttributes().hasResult()) {
            attributes.setResult(command.getCompleteWorkflowExecutionCommandAttributes().getResult());
          }
          Runs.close(
              e,
              Statuses.COMPLETED,
              HistoryEvent.newBuilder()
                  .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
                  .setWorkflowExecutionCompletedEventAttributes(attributes));
        }
        case COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION -> {
          WorkflowExecutionFailedEventAttributes.Builder attributes =
              WorkflowExecutionFailedEventAttributes.newBuilder()
                  .setWorkflowTaskCompletedEventId(completedId);
          Failure failure = command.getFailWorkflowExecutionCommandAttributes().hasFailure()
              ? command.getFailWorkflowExecutionCommandAttributes().getFailure() : null;
          if (failure != null) {
            attributes.setFailure(failure);
          }
          Runs.Retry retry = Runs.retry(tx, e, failure, null);
          attributes.setRetryState(retry.state());
          retry.newRunId().ifPresent(attributes::setNewExecutionRunId);
          Runs.close(
              e,
              Statuses.FAILED,
              HistoryEvent.newBuilder()
                  .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
                  .setWorkflowExecutionFailedEventAttributes(attributes));
        }
        case COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION -> {
          WorkflowExecutionCanceledEventAttributes.Builder attributes =
              WorkflowExecutionCanceledEventAttributes.newBuilder()
                  .setWorkflowTaskCompletedEventId(completedId);
          if (command.getCancelWorkflowExecutionCommandAttributes().hasDetails()) {
            attributes.setDetails(command.getCancelWorkflowExecutionCommandAttributes().getDetails());
          }
          Runs.close(
              e,
              Statuses.CANCELED,
              HistoryEvent.newBuilder()
                  .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
                  .setWorkflowExecutionCanceledEventAttributes(attributes));
        }
        case COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION ->
            continueAsNew(tx, e, completedId, command.getContinueAsNewWorkflowExecutionCommandAttributes(), identity);
        case COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION ->
            Children.initiate(e, completedId, command.getStartChildWorkflowExecutionCommandAttributes());
        case COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION ->
            Externals.initiateSignal(e, completedId, command.getSignalExternalWorkflowExecutionCommandAttributes());
        case COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION ->
            Externals.initiateCancel(
                e, completedId, command.getRequestCancelExternalWorkflowExecutionCommandAttributes());
        default ->
            throw new BadCommandException(
                WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                "command " + command.getCommandType() + " is not supported by this server");
      }
      if (!e.state.isRunning()) {
        break;
      }
    }
    return newTask;
  }

  private static void startTimer(Execution e, long completedId, Command command) {
    var attributes = command.getStartTimerCommandAttributes();
    String timerId = attributes.getTimerId();
    if (timerId.isEmpty()) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
          "StartTimer: timer_id is not set");
    }
    if (!attributes.hasStartToFireTimeout()) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
          "StartTimer: start_to_fire_timeout is not set");
    }
    long fireIn =
        millis(
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
            "StartTimer: start_to_fire_timeout",
            true,
            attributes.getStartToFireTimeout());
    if (e.state.timers.containsKey(timerId)) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID,
          "StartTimer: timer_id " + timerId + " is already in use by a running timer");
    }
    HistoryEvent.Builder event =
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_TIMER_STARTED)
            .setTimerStartedEventAttributes(
                TimerStartedEventAttributes.newBuilder()
                    .setTimerId(timerId)
                    .setStartToFireTimeout(attributes.getStartToFireTimeout())
                    .setWorkflowTaskCompletedEventId(completedId));
    if (command.hasUserMetadata()) {
      event.setUserMetadata(command.getUserMetadata());
    }
    long startedId = e.append(event);
    ExecutionState.TimerInfo timer = new ExecutionState.TimerInfo();
    timer.timerId = timerId;
    timer.startedEventId = startedId;
    timer.fireTime = e.now + fireIn;
    e.state.timers.put(timerId, timer);
    e.putTimer(timerKey(timerId), timer.fireTime);
  }

  static String timerKey(String timerId) {
    return "timer:" + timerId;
  }

  private static void cancelTimer(Execution e, long completedId, Command command, String identity) {
    String timerId = command.getCancelTimerCommandAttributes().getTimerId();
    if (timerId.isEmpty()) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
          "CancelTimer: timer_id is not set");
    }
    ExecutionState.TimerInfo timer = e.state.timers.remove(timerId);
    long startedId;
    if (timer != null) {
      startedId = timer.startedEventId;
      e.deleteTimer(timerKey(timerId));
    } else {
      // The timer may have fired while the task was in flight: its TimerFired sits in the buffer.
      startedId = removeBufferedFire(e, timerId);
      if (startedId == 0) {
        throw new BadCommandException(
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
            "CancelTimer: timer_id " + timerId + " names no running timer");
      }
    }
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_TIMER_CANCELED)
            .setTimerCanceledEventAttributes(
                TimerCanceledEventAttributes.newBuilder()
                    .setTimerId(timerId)
                    .setStartedEventId(startedId)
                    .setWorkflowTaskCompletedEventId(completedId)
                    .setIdentity(identity)));
  }

  private static long removeBufferedFire(Execution e, String timerId) {
    var buffered = e.state.bufferedEvents;
    for (int i = 0; i < buffered.size(); i++) {
      try {
        HistoryEvent event = HistoryEvent.parseFrom(buffered.get(i));
        if (event.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED
            && event.getTimerFiredEventAttributes().getTimerId().equals(timerId)) {
          buffered.remove(i);
          return event.getTimerFiredEventAttributes().getStartedEventId();
        }
      } catch (InvalidProtocolBufferException ex) {
        throw new IllegalStateException("buffered event is unreadable", ex);
      }
    }
    return 0;
  }

  private static void recordMarker(Execution e, long completedId, Command command) {
    var attributes = command.getRecordMarkerCommandAttributes();
    if (attributes.getMarkerName().isEmpty()) {
      throw new BadCommandException(
          WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES,
          "RecordMarker: marker_name is not set");
    }
    MarkerRecordedEventAttributes.Builder marker =
        MarkerRecordedEventAttributes.newBuilder()
            .setMarkerName(attributes.getMarkerName())
            .putAllDetails(attributes.getDetailsMap())
            .setWorkflowTaskCompletedEventId(completedId);
    if (attributes.hasHeader()) {
      marker.setHeader(attributes.getHeader());
    }
    if (attributes.hasFailure()) {
      marker.setFailure(attributes.getFailure());
    }
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_MARKER_RECORDED)
            .setMarkerRecordedEventAttributes(marker));
  }

  private static void upsertSearchAttributes(Execution e, long completedId, Command command) {
    SearchAttributes upserted =
        command.getUpsertWorkflowSearchAttributesCommandAttributes().getSearchAttributes();
    SearchAttributes current =
        Protos.parse(SearchAttributes.parser(), e.state.searchAttributes, SearchAttributes.getDefaultInstance());
    Map<String, Payload> merged = new HashMap<>(current.getIndexedFieldsMap());
    merged.putAll(upserted.getIndexedFieldsMap());
    e.state.searchAttributes = SearchAttributes.newBuilder().putAllIndexedFields(merged).build().toByteArray();
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
            .setUpsertWorkflowSearchAttributesEventAttributes(
                UpsertWorkflowSearchAttributesEventAttributes.newBuilder()
                    .setWorkflowTaskCompletedEventId(completedId)
                    .setSearchAttributes(upserted)));
  }

  private static void modifyProperties(Execution e, long completedId, Command command) {
    Memo upserted = command.getModifyWorkflowPropertiesCommandAttributes().getUpsertedMemo();
    Memo current = Protos.parse(Memo.parser(), e.state.memo, Memo.getDefaultInstance());
    Map<String, Payload> merged = new HashMap<>(current.getFieldsMap());
    upserted.getFieldsMap().forEach((k, v) -> {
      if (v.getData().isEmpty() && v.getMetadataCount() == 0) {
        merged.remove(k);
      } else {
        merged.put(k, v);
      }
    });
    e.state.memo = Memo.newBuilder().putAllFields(merged).build().toByteArray();
    e.append(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
            .setWorkflowPropertiesModifiedEventAttributes(
                WorkflowPropertiesModifiedEventAttributes.newBuilder()
                    .setWorkflowTaskCompletedEventId(completedId)
                    .setUpsertedMemo(upserted)));
  }

  @SuppressWarnings("deprecation") // the failure field is still what older SDKs send
  private static void continueAsNew(
      Tx tx,
      Execution e,
      long completedId,
      ContinueAsNewWorkflowExecutionCommandAttributes attributes,
      String identity) {
    ExecutionState s = e.state;
    String type =
        attributes.getWorkflowType().getName().isEmpty() ? s.workflowType : attributes.getWorkflowType().getName();
    String queue =
        attributes.getTaskQueue().getName().isEmpty() ? s.taskQueue : attributes.getTaskQueue().getName();
    var bad = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES;
    io.temporal.api.common.v1.RetryPolicy retryPolicy = attributes.hasRetryPolicy()
        ? NewRuns.workflowRetryPolicy(bad, "ContinueAsNew: ", attributes.getRetryPolicy()) : null;
    long runTimeout =
        attributes.hasWorkflowRunTimeout()
            ? millis(bad, "ContinueAsNew: workflow_run_timeout", true, attributes.getWorkflowRunTimeout())
            : s.runTimeoutMillis;
    long taskTimeout =
        attributes.hasWorkflowTaskTimeout()
            ? millis(bad, "ContinueAsNew: workflow_task_timeout", true, attributes.getWorkflowTaskTimeout())
            : s.workflowTaskTimeoutMillis;
    long backoff =
        millis(
            bad,
            "ContinueAsNew: backoff_start_interval",
            attributes.hasBackoffStartInterval(),
            attributes.getBackoffStartInterval());
    NewRun next =
        new NewRun(
            s.namespace,
            s.workflowId,
            type,
            queue,
            attributes.hasInput() ? attributes.getInput() : null,
            s.executionTimeoutMillis,
            runTimeout,
            taskTimeout,
            identity,
            UUID.randomUUID().toString(),
            retryPolicy,
            attributes.hasMemo() ? attributes.getMemo() : Protos.parse(Memo.parser(), s.memo, null),
            attributes.hasSearchAttributes()
                ? attributes.getSearchAttributes()
                : Protos.parse(SearchAttributes.parser(), s.searchAttributes, null),
            attributes.hasHeader() ? attributes.getHeader() : null,
            Protos.parse(io.temporal.api.common.v1.Priority.parser(), s.priority, null),
            backoff,
            s.runId,
            s.firstRunId,
            s.executionDeadline,
            ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
            attributes.hasFailure() ? attributes.getFailure() : null,
            attributes.hasLastCompletionResult() ? attributes.getLastCompletionResult() : null,
            1,
            Children.parentOf(s));
    WorkflowExecutionContinuedAsNewEventAttributes.Builder event =
        WorkflowExecutionContinuedAsNewEventAttributes.newBuilder()
            .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(type))
            .setTaskQueue(TaskQueue.newBuilder().setName(queue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setWorkflowRunTimeout(Protos.duration(runTimeout))
            .setWorkflowTaskTimeout(Protos.duration(taskTimeout))
            .setWorkflowTaskCompletedEventId(completedId)
            .setBackoffStartInterval(Protos.duration(backoff))
            .setInitiator(ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW);
    if (attributes.hasInput()) {
      event.setInput(attributes.getInput());
    }
    if (attributes.hasHeader()) {
      event.setHeader(attributes.getHeader());
    }
    if (attributes.hasMemo()) {
      event.setMemo(attributes.getMemo());
    }
    if (attributes.hasSearchAttributes()) {
      event.setSearchAttributes(attributes.getSearchAttributes());
    }
    if (attributes.hasLastCompletionResult()) {
      event.setLastCompletionResult(attributes.getLastCompletionResult());
    }
    if (attributes.hasFailure()) {
      event.setFailure(attributes.getFailure());
    }
    Execution nextRun = Runs.startRun(tx, next);
    Runs.scheduleFirstWorkflowTask(nextRun);
    event.setNewExecutionRunId(nextRun.state.runId);
    s.continuedRunId = nextRun.state.runId;
    Runs.close(
        e,
        Statuses.CONTINUED_AS_NEW,
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
            .setWorkflowExecutionContinuedAsNewEventAttributes(event));
  }
}
