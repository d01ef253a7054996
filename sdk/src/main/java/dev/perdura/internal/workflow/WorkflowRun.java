package dev.perdura.internal.workflow;

import dev.perdura.common.Payload;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.failure.CanceledFailure;
import dev.perdura.failure.TimeoutFailure;
import dev.perdura.internal.Protos;
import dev.perdura.internal.failure.Failures;
import dev.perdura.workflow.ActivityCancellationType;
import dev.perdura.workflow.ActivityHandle;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.CancellationScope;
import dev.perdura.workflow.ChildWorkflowHandle;
import dev.perdura.workflow.ChildWorkflowOptions;
import dev.perdura.workflow.WorkflowInfo;
import io.temporal.api.command.v1.CancelWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.FailWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.RequestCancelActivityTaskCommandAttributes;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.command.v1.StartTimerCommandAttributes;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.TaskQueue;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One workflow execution rebuilt in memory from its history: the workflow object, its threads under a
 * {@link DeterministicScheduler}, and the state of every activity and timer it started. Replaying the
 * history runs the code exactly as it ran before, checking that each command it makes again matches
 * the event the server recorded for it; the new commands of the current workflow task are the answer.
 */
public final class WorkflowRun {
  private static final ThreadLocal<WorkflowRun> CURRENT = new ThreadLocal<>();

  private final WorkflowDefinition definition;
  private final PayloadConverter converter;
  private final DeterministicScheduler scheduler = new DeterministicScheduler();
  private final List<Produced> produced = new ArrayList<>();
  private final Map<String, ActivityState<?>> activitiesById = new HashMap<>();
  private final Map<Long, ActivityState<?>> activitiesByScheduledId = new HashMap<>();
  private final Map<String, TimerState> timersById = new HashMap<>();
  private final Map<String, ChildState<?>> childrenById = new HashMap<>();
  private final Map<Long, ChildState<?>> childrenByInitiatedId = new HashMap<>();
  private final Map<Long, SignalState> signalsByInitiatedId = new HashMap<>();
  private int matched;
  private int sequence;
  private WorkflowInfo info;
  private Object instance;
  private Instant now = Instant.EPOCH;
  private boolean cancelRequested;
  /** A cancel request arrived in the events being applied; the root scope is cancelled before the code runs. */
  private boolean cancelPending;
  private final Scope root = new Scope(null, false, null);
  private boolean closed;
  private Random random;
  private LocalActivities locals;
  /** Local activity markers of the workflow task being replayed, by activity id. */
  private final Map<String, HistoryEvent> markers = new HashMap<>();
  private boolean replaying;
  private boolean needsNewTask;
  private boolean keepAlive;
  private Duration workflowTaskTimeout = Duration.ofSeconds(10);
  private final List<LocalState<?>> pendingLocals = new ArrayList<>();
  private final java.util.concurrent.BlockingQueue<LocalState<?>> finishedLocals =
      new java.util.concurrent.LinkedBlockingQueue<>();
  static final String LOCAL_ACTIVITY_MARKER = "LocalActivity";

  /** A command the code made, and the state it belongs to (to learn its event id when matched). */
  private record Produced(Command command, Object owner) {}

  public WorkflowRun(WorkflowDefinition definition, PayloadConverter converter) {
    this.definition = definition;
    this.converter = converter;
  }

  public static WorkflowRun current() {
    WorkflowRun run = CURRENT.get();
    if (run == null) {
      throw new IllegalStateException("not in workflow code: this works only inside a workflow method or handler");
    }
    return run;
  }

  /** Where this run's local activities execute. */
  public void useLocalActivities(LocalActivities locals) {
    this.locals = locals;
  }

  public static boolean inWorkflow() {
    return CURRENT.get() != null;
  }

  // ---- replay ----------------------------------------------------------------------------------

  /**
   * Replays the history and runs the code for the current workflow task.
   *
   * @param currentStartedEventId the WorkflowTaskStarted event of the task being answered
   * @return the commands of the current task
   * @throws NonDeterminismException the code does not match its history
   */
  public List<Command> replay(List<HistoryEvent> events, long currentStartedEventId, WorkflowInfo taskInfo) {
    needsNewTask = false;
    preloadMarkers(events, 0);
    for (int i = 0; i < events.size(); i++) {
      HistoryEvent event = events.get(i);
      switch (event.getEventType()) {
        case EVENT_TYPE_WORKFLOW_EXECUTION_STARTED -> begin(event, taskInfo);
        case EVENT_TYPE_WORKFLOW_TASK_STARTED -> {
          boolean current = event.getEventId() == currentStartedEventId;
          boolean completed = i + 1 < events.size()
              && events.get(i + 1).getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
          if (current || completed) {
            if (matched < produced.size()) {
              throw new NonDeterminismException("the code made " + describe(produced.get(matched).command())
                  + ", but the history has no event for it before event " + event.getEventId());
            }
            now = Protos.instant(event.getEventTime());
            replaying = !current;
            if (current) {
              startLostLocalActivities();
            }
            applyCancelRequest();
            runCode();
            if (!current) {
              settleReplayedLocalActivities(nextTaskStart(events, i + 1));
            }
            if (current) {
              drainLocalActivities();
              return produced.subList(matched, produced.size()).stream().map(Produced::command).toList();
            }
          }
        }
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          var attributes = event.getActivityTaskScheduledEventAttributes();
          ActivityState<?> activity = (ActivityState<?>) match(event, CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
              attributes.getActivityId(), c -> c.getScheduleActivityTaskCommandAttributes().getActivityId());
          activity.scheduledEventId = event.getEventId();
          activitiesByScheduledId.put(event.getEventId(), activity);
        }
        case EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED -> match(event, CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
            Long.toString(event.getActivityTaskCancelRequestedEventAttributes().getScheduledEventId()),
            c -> Long.toString(c.getRequestCancelActivityTaskCommandAttributes().getScheduledEventId()));
        case EVENT_TYPE_MARKER_RECORDED -> match(event, CommandType.COMMAND_TYPE_RECORD_MARKER,
            markerKey(event.getMarkerRecordedEventAttributes().getMarkerName(),
                event.getMarkerRecordedEventAttributes().getDetailsMap()),
            c -> markerKey(c.getRecordMarkerCommandAttributes().getMarkerName(),
                c.getRecordMarkerCommandAttributes().getDetailsMap()));
        case EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW -> match(event,
            CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, "", c -> "");
        case EVENT_TYPE_TIMER_STARTED -> ((TimerState) match(event, CommandType.COMMAND_TYPE_START_TIMER,
            event.getTimerStartedEventAttributes().getTimerId(), c -> c.getStartTimerCommandAttributes().getTimerId()))
            .started = true;
        case EVENT_TYPE_TIMER_CANCELED -> match(event, CommandType.COMMAND_TYPE_CANCEL_TIMER,
            event.getTimerCanceledEventAttributes().getTimerId(), c -> c.getCancelTimerCommandAttributes().getTimerId());
        case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> match(event,
            CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, "", c -> "");
        case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> match(event, CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION, "", c -> "");
        case EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED -> match(event,
            CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, "", c -> "");
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
          var attributes = event.getActivityTaskCompletedEventAttributes();
          activity(attributes.getScheduledEventId()).completed(attributes.getResult());
        }
        case EVENT_TYPE_ACTIVITY_TASK_FAILED -> {
          var attributes = event.getActivityTaskFailedEventAttributes();
          activity(attributes.getScheduledEventId()).failed(Failures.fromProto(attributes.getFailure()));
        }
        case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT -> {
          var attributes = event.getActivityTaskTimedOutEventAttributes();
          activity(attributes.getScheduledEventId()).failed(Failures.fromProto(attributes.getFailure()));
        }
        case EVENT_TYPE_ACTIVITY_TASK_CANCELED -> {
          var attributes = event.getActivityTaskCanceledEventAttributes();
          activity(attributes.getScheduledEventId()).failed(new CanceledFailure("activity cancelled"));
        }
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED -> {
          var attributes = event.getStartChildWorkflowExecutionInitiatedEventAttributes();
          ChildState<?> child = (ChildState<?>) match(event, CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
              attributes.getWorkflowId(), c -> c.getStartChildWorkflowExecutionCommandAttributes().getWorkflowId());
          child.initiatedEventId = event.getEventId();
          childrenByInitiatedId.put(event.getEventId(), child);
        }
        case EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED -> match(event,
            CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
            event.getRequestCancelExternalWorkflowExecutionInitiatedEventAttributes().getWorkflowExecution().getWorkflowId(),
            c -> c.getRequestCancelExternalWorkflowExecutionCommandAttributes().getWorkflowId());
        case EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED -> {
          @SuppressWarnings("deprecation") // control carries the id that pairs command and event
          String control = event.getSignalExternalWorkflowExecutionInitiatedEventAttributes().getControl();
          SignalState signal = (SignalState) match(event, CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
              control, c -> signalControl(c));
          signalsByInitiatedId.put(event.getEventId(), signal);
        }
        case EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED -> sentSignal(
            event.getExternalWorkflowExecutionSignaledEventAttributes().getInitiatedEventId())
            .completed(io.temporal.api.common.v1.Payloads.getDefaultInstance());
        case EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED -> sentSignal(
            event.getSignalExternalWorkflowExecutionFailedEventAttributes().getInitiatedEventId())
            .failed(ApplicationFailure.nonRetryable("no running workflow "
                + event.getSignalExternalWorkflowExecutionFailedEventAttributes().getWorkflowExecution().getWorkflowId()
                + " to signal", EXTERNAL_WORKFLOW_NOT_FOUND));
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED -> {
          var attributes = event.getChildWorkflowExecutionStartedEventAttributes();
          child(attributes.getInitiatedEventId()).runId = attributes.getWorkflowExecution().getRunId();
        }
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED -> child(
            event.getStartChildWorkflowExecutionFailedEventAttributes().getInitiatedEventId())
            .failed(ApplicationFailure.nonRetryable("workflow id "
                + event.getStartChildWorkflowExecutionFailedEventAttributes().getWorkflowId() + " is in use",
                dev.perdura.failure.ChildWorkflowFailure.ALREADY_STARTED));
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED -> {
          var attributes = event.getChildWorkflowExecutionCompletedEventAttributes();
          child(attributes.getInitiatedEventId()).completed(attributes.getResult());
        }
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED -> {
          var attributes = event.getChildWorkflowExecutionFailedEventAttributes();
          child(attributes.getInitiatedEventId()).failed(Failures.fromProto(attributes.getFailure()));
        }
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED -> child(
            event.getChildWorkflowExecutionCanceledEventAttributes().getInitiatedEventId())
            .failed(new CanceledFailure("child workflow cancelled"));
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT -> child(
            event.getChildWorkflowExecutionTimedOutEventAttributes().getInitiatedEventId())
            .failed(new TimeoutFailure("child workflow timed out", TimeoutFailure.Type.START_TO_CLOSE, List.of()));
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED -> child(
            event.getChildWorkflowExecutionTerminatedEventAttributes().getInitiatedEventId())
            .failed(ApplicationFailure.nonRetryable("child workflow terminated",
                dev.perdura.failure.ChildWorkflowFailure.TERMINATED));
        case EVENT_TYPE_TIMER_FIRED -> {
          TimerState timer = timersById.get(event.getTimerFiredEventAttributes().getTimerId());
          if (timer == null) {
            throw new NonDeterminismException("history fires timer " + event.getTimerFiredEventAttributes().getTimerId()
                + " that the code never started");
          }
          timer.fired = true;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED -> signal(event.getWorkflowExecutionSignaledEventAttributes()
            .getSignalName(), Protos.payloads(event.getWorkflowExecutionSignaledEventAttributes().getInput()));
        case EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED -> {
          cancelRequested = true;
          cancelPending = true;
        }
        default -> {
          // scheduling, starts and completions of workflow tasks, activity starts: nothing to replay
        }
      }
    }
    if (currentStartedEventId < 0) {
      return List.of();
    }
    throw new IllegalStateException("history ends before the workflow task started at event " + currentStartedEventId);
  }

  /** Replays the whole history (every completed workflow task) without running a new one: for queries. */
  public void replayAll(List<HistoryEvent> events, WorkflowInfo taskInfo) {
    replay(events, -1, taskInfo);
  }

  /**
   * Answers a query from the workflow's current state, on the calling thread.
   *
   * @throws IllegalArgumentException no handler for the query type
   */
  public io.temporal.api.common.v1.Payloads query(String queryType, io.temporal.api.common.v1.Payloads args) {
    Method handler = definition.queryHandlers().get(queryType);
    if (handler == null) {
      throw new IllegalArgumentException("workflow " + definition.name() + " has no handler for query '" + queryType
          + "'; it answers " + new java.util.TreeSet<>(definition.queryHandlers().keySet()));
    }
    try {
      Object result = handler.invoke(instance, decodeArgs(handler, Protos.payloads(args)));
      return Protos.encode(converter, Arrays.asList(result));
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private Object match(HistoryEvent event, CommandType expected, String id, java.util.function.Function<Command, String> idOf) {
    if (matched >= produced.size()) {
      throw new NonDeterminismException("history has " + event.getEventType() + " (event " + event.getEventId()
          + (id.isEmpty() ? "" : ", id " + id) + "), but the code made no such command");
    }
    Produced next = produced.get(matched);
    if (next.command().getCommandType() != expected || !idOf.apply(next.command()).equals(id)) {
      throw new NonDeterminismException("history has " + event.getEventType() + " (event " + event.getEventId()
          + (id.isEmpty() ? "" : ", id " + id) + "), but the code made " + describe(next.command()));
    }
    matched++;
    return next.owner();
  }

  private static String describe(Command command) {
    return switch (command.getCommandType()) {
      case COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK -> "ScheduleActivityTask(" + command.getScheduleActivityTaskCommandAttributes()
          .getActivityType().getName() + ", id " + command.getScheduleActivityTaskCommandAttributes().getActivityId() + ")";
      case COMMAND_TYPE_START_TIMER -> "StartTimer(id " + command.getStartTimerCommandAttributes().getTimerId() + ")";
      case COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION -> "RequestCancelExternalWorkflowExecution(id "
          + command.getRequestCancelExternalWorkflowExecutionCommandAttributes().getWorkflowId() + ")";
      case COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION -> "SignalExternalWorkflowExecution("
          + command.getSignalExternalWorkflowExecutionCommandAttributes().getSignalName() + " to "
          + command.getSignalExternalWorkflowExecutionCommandAttributes().getExecution().getWorkflowId() + ")";
      case COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION -> "StartChildWorkflowExecution("
          + command.getStartChildWorkflowExecutionCommandAttributes().getWorkflowType().getName() + ", id "
          + command.getStartChildWorkflowExecutionCommandAttributes().getWorkflowId() + ")";
      default -> command.getCommandType().name();
    };
  }

  private ActivityState<?> activity(long scheduledEventId) {
    ActivityState<?> activity = activitiesByScheduledId.get(scheduledEventId);
    if (activity == null) {
      throw new NonDeterminismException("history has an outcome for the activity scheduled at event "
          + scheduledEventId + ", which the code never scheduled");
    }
    return activity;
  }

  @SuppressWarnings("deprecation")
  private static String signalControl(Command command) {
    return command.getSignalExternalWorkflowExecutionCommandAttributes().getControl();
  }

  private SignalState sentSignal(long initiatedEventId) {
    SignalState signal = signalsByInitiatedId.remove(initiatedEventId);
    if (signal == null) {
      throw new NonDeterminismException("history has news of the signal initiated at event " + initiatedEventId
          + ", which the code never sent");
    }
    return signal;
  }

  private ChildState<?> child(long initiatedEventId) {
    ChildState<?> child = childrenByInitiatedId.get(initiatedEventId);
    if (child == null) {
      throw new NonDeterminismException("history has news of the child workflow initiated at event "
          + initiatedEventId + ", which the code never started");
    }
    return child;
  }

  private void begin(HistoryEvent event, WorkflowInfo taskInfo) {
    info = taskInfo;
    random = new Random(taskInfo.runId().hashCode());
    var attributes = event.getWorkflowExecutionStartedEventAttributes();
    if (attributes.hasWorkflowTaskTimeout()) {
      Duration timeout = Protos.optionalDuration(true, attributes.getWorkflowTaskTimeout());
      workflowTaskTimeout = timeout == null ? workflowTaskTimeout : timeout;
    }
    List<Payload> input = Protos.payloads(attributes.getInput());
    try {
      instance = definition.constructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create workflow " + definition.name() + ": " + e, e);
    }
    Object[] args = decodeArgs(definition.run(), input);
    scheduler.start("main", bound(() -> {
      Object result;
      try {
        result = definition.run().invoke(instance, args);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof ContinueAsNew request) {
          if (!closed) {
            continueAsNew(request.args);
          }
          return;
        }
        finishWithException(e.getCause());
        return;
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
      if (!closed) {
        closed = true;
        add(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
            .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.newBuilder()
                .setResult(Protos.encode(converter, Arrays.asList(result))))
            .build(), null);
      }
    }));
  }

  private Object[] decodeArgs(Method method, List<Payload> input) {
    Type[] types = method.getGenericParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      args[i] = i < input.size() ? converter.fromPayload(input.get(i), types[i]) : null;
    }
    return args;
  }

  /** Workflow-level failures end the workflow; anything else fails the task, to be retried after a fix. */
  private void finishWithException(Throwable error) {
    if (closed) {
      return;
    }
    if (cancelRequested && (error instanceof CanceledFailure
        || (error instanceof ActivityFailure activity && activity.getCause() instanceof CanceledFailure))) {
      closed = true;
      add(Command.newBuilder()
          .setCommandType(CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION)
          .setCancelWorkflowExecutionCommandAttributes(CancelWorkflowExecutionCommandAttributes.getDefaultInstance())
          .build(), null);
      return;
    }
    if (error instanceof ApplicationFailure || error instanceof ActivityFailure || error instanceof TimeoutFailure
        || error instanceof CanceledFailure || error instanceof dev.perdura.failure.ChildWorkflowFailure) {
      closed = true;
      add(Command.newBuilder()
          .setCommandType(CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION)
          .setFailWorkflowExecutionCommandAttributes(FailWorkflowExecutionCommandAttributes.newBuilder()
              .setFailure(Failures.toProto(error, converter)))
          .build(), null);
      return;
    }
    if (error instanceof RuntimeException runtime) {
      throw runtime;
    }
    throw new IllegalStateException(error);
  }

  private Runnable bound(Runnable body) {
    return () -> {
      CURRENT.set(this);
      try {
        body.run();
      } finally {
        CURRENT.remove();
      }
    };
  }

  private void runCode() {
    Throwable failure = scheduler.runUntilBlocked();
    if (failure != null) {
      if (failure instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("workflow code failed: " + failure, failure);
    }
  }

  private void signal(String name, List<Payload> input) {
    Method handler = definition.signalHandlers().get(name);
    if (handler == null) {
      org.slf4j.LoggerFactory.getLogger(WorkflowRun.class).warn("workflow {} ({}) has no handler for signal '{}'; "
          + "it is ignored", info.workflowId(), definition.name(), name);
      return;
    }
    Object[] args = decodeArgs(handler, input);
    scheduler.start("signal-" + name, bound(() -> {
      try {
        handler.invoke(instance, args);
      } catch (InvocationTargetException e) {
        finishWithException(e.getCause());
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }));
  }

  /** Releases the workflow's threads; the run cannot be used afterwards. */
  public void close() {
    pendingLocals.stream().filter(local -> local.running != null).forEach(local -> local.running.cancel());
    scheduler.destroy();
  }

  // ---- side effects, versions, continue-as-new -------------------------------------------------

  static final String SIDE_EFFECT_MARKER = "SideEffect";
  static final String VERSION_MARKER = "Version";
  public static final int DEFAULT_VERSION = -1;
  private final Map<String, Integer> versions = new HashMap<>();

  private void addMarker(String name, String id, Map<String, io.temporal.api.common.v1.Payloads> details) {
    var marker = io.temporal.api.command.v1.RecordMarkerCommandAttributes.newBuilder()
        .setMarkerName(name)
        .putDetails("id", Protos.encode(converter, List.of(id)))
        .putAllDetails(details);
    add(Command.newBuilder().setCommandType(CommandType.COMMAND_TYPE_RECORD_MARKER)
        .setRecordMarkerCommandAttributes(marker).build(), null);
  }

  /** Runs the supplier once, live; on replay returns what it returned then, from its marker. */
  public <R> R sideEffect(Type type, java.util.function.Supplier<R> supplier) {
    String id = Integer.toString(++sequence);
    io.temporal.api.common.v1.Payloads value;
    if (replaying) {
      HistoryEvent marker = markers.get(SIDE_EFFECT_MARKER + ":" + id);
      if (marker == null) {
        throw new NonDeterminismException("the code made side effect " + id + ", but the history has no marker for it");
      }
      value = marker.getMarkerRecordedEventAttributes().getDetailsMap().get("result");
    } else {
      value = Protos.encode(converter, Arrays.asList(supplier.get()));
    }
    addMarker(SIDE_EFFECT_MARKER, id, Map.of("result", value));
    @SuppressWarnings("unchecked")
    R result = value.getPayloadsCount() == 0 ? null : (R) converter.fromPayload(Protos.fromProto(value.getPayloads(0)), type);
    return result;
  }

  /**
   * The version of a change the run follows: recorded the first time it is asked live (the newest,
   * {@code maxSupported}); {@link #DEFAULT_VERSION} for a run whose history predates the change.
   */
  public int getVersion(String changeId, int minSupported, int maxSupported) {
    Integer known = versions.get(changeId);
    int version;
    if (known != null) {
      version = known;
    } else {
      HistoryEvent marker = markers.get(VERSION_MARKER + ":" + changeId);
      if (marker != null) {
        version = converter.fromPayload(Protos.fromProto(marker.getMarkerRecordedEventAttributes().getDetailsMap()
            .get("version").getPayloads(0)), Integer.class);
        addMarker(VERSION_MARKER, changeId, Map.of("version", Protos.encode(converter, List.of(version))));
      } else if (replaying) {
        version = DEFAULT_VERSION;
      } else {
        version = maxSupported;
        addMarker(VERSION_MARKER, changeId, Map.of("version", Protos.encode(converter, List.of(version))));
      }
      versions.put(changeId, version);
    }
    if (version < minSupported || version > maxSupported) {
      throw new NonDeterminismException("change '" + changeId + "' is at version " + version
          + ", outside what the code supports (" + minSupported + ".." + maxSupported + ")");
    }
    return version;
  }

  /** Thrown through the workflow method to end the run with a continue-as-new. */
  public static final class ContinueAsNew extends Error {
    final Object[] args;

    public ContinueAsNew(Object[] args) {
      super("continue as new", null, false, false);
      this.args = args;
    }
  }

  private void continueAsNew(Object[] args) {
    closed = true;
    add(Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
        .setContinueAsNewWorkflowExecutionCommandAttributes(
            io.temporal.api.command.v1.ContinueAsNewWorkflowExecutionCommandAttributes.newBuilder()
                .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(info.workflowType()))
                .setTaskQueue(TaskQueue.newBuilder().setName(info.taskQueue()))
                .setInput(Protos.encode(converter, Arrays.asList(args))))
        .build(), null);
  }

  // ---- local activities ------------------------------------------------------------------------

  /** A marker's identity: its name and the id in its details ({@code activityId} or {@code id}). */
  private String markerKey(String name, Map<String, io.temporal.api.common.v1.Payloads> details) {
    var id = details.containsKey("activityId") ? details.get("activityId") : details.get("id");
    return name + ":" + (id == null || id.getPayloadsCount() == 0 ? ""
        : String.valueOf(converter.fromPayload(Protos.fromProto(id.getPayloads(0)), String.class)));
  }

  /**
   * The local activity markers in the history, by activity id: a local activity can end in a later
   * task than the one that started it (the task was kept alive meanwhile).
   */
  private void preloadMarkers(List<HistoryEvent> events, int from) {
    for (int j = from; j < events.size(); j++) {
      HistoryEvent later = events.get(j);
      if (later.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED) {
        var attributes = later.getMarkerRecordedEventAttributes();
        markers.put(markerKey(attributes.getMarkerName(), attributes.getDetailsMap()), later);
      }
    }
  }

  public <R> ActivityHandle<R> startLocalActivity(String type, Type resultType,
      dev.perdura.workflow.LocalActivityOptions options, Object[] args) {
    String activityId = Integer.toString(++sequence);
    LocalState<R> local = new LocalState<>(type, activityId, resultType);
    local.input = Protos.encode(converter, Arrays.asList(args));
    local.options = options;
    if (replaying) {
      // Settled once the code blocks, in marker order, as the outcomes arrived when it ran live; with no
      // marker it was still running when the history ends, and runs again when replay catches up.
      local.marker = markers.get(LOCAL_ACTIVITY_MARKER + ":" + activityId);
      pendingLocals.add(local);
      local.enterScope();
      return local;
    }
    if (locals == null) {
      throw new IllegalStateException("this worker runs no local activities");
    }
    local.running = locals.start(info.workflowId(), info.runId(), info.workflowType(), activityId, type,
        local.input, options);
    pendingLocals.add(local);
    local.running.outcome().whenComplete((outcome, error) -> finishedLocals.add(local));
    local.enterScope();
    return local;
  }

  /** The id of the next WorkflowTaskStarted event from index {@code from}, or the end. */
  private static long nextTaskStart(List<HistoryEvent> events, int from) {
    for (int j = from; j < events.size(); j++) {
      if (events.get(j).getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
        return events.get(j).getEventId();
      }
    }
    return Long.MAX_VALUE;
  }

  /**
   * Replays the outcomes of local activities whose markers this task recorded (before event
   * {@code upTo}), in the order they were recorded, letting the code go on after each.
   */
  private void settleReplayedLocalActivities(long upTo) {
    while (true) {
      LocalState<?> next = pendingLocals.stream()
          .filter(l -> l.marker != null && l.marker.getEventId() < upTo)
          .min(java.util.Comparator.comparingLong(l -> l.marker.getEventId())).orElse(null);
      if (next == null) {
        return;
      }
      pendingLocals.remove(next);
      markers.remove(LOCAL_ACTIVITY_MARKER + ":" + next.activityId);
      var attributes = next.marker.getMarkerRecordedEventAttributes();
      next.settle(attributes.getDetailsMap().get("result"), attributes.hasFailure() ? attributes.getFailure() : null);
      runCode();
    }
  }

  /**
   * Local activities that replay started but whose outcome no marker records were still running when
   * the history ends: whoever ran them is gone, so they run again here.
   */
  private void startLostLocalActivities() {
    for (LocalState<?> local : pendingLocals) {
      if (local.marker == null && local.running == null) {
        local.running = locals.start(info.workflowId(), info.runId(), info.workflowType(), local.activityId,
            local.type, local.input, local.options);
        local.running.outcome().whenComplete((outcome, error) -> finishedLocals.add(local));
      }
    }
  }

  /**
   * Waits for the local activities the code started, records each, and lets the code go on. Waits at
   * most most of the workflow task timeout: then the task is completed with what it has and asks for a
   * new one ({@link #needsNewTask()}), so a long local activity keeps the workflow alive.
   */
  private void drainLocalActivities() {
    long deadline = System.nanoTime() + workflowTaskTimeout.toNanos() * 7 / 10;
    while (!pendingLocals.isEmpty()) {
      LocalState<?> finished;
      try {
        long wait = keepAlive ? deadline - System.nanoTime() : Long.MAX_VALUE;
        finished = wait <= 0 ? null : finishedLocals.poll(wait, java.util.concurrent.TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while local activities run", e);
      }
      if (finished == null) {
        needsNewTask = true;
        return;
      }
      pendingLocals.remove(finished);
      LocalActivities.Outcome outcome = finished.running.outcome().join();
      finished.settle(outcome.result(), outcome.failure());
      runCode();
    }
  }

  /** Whether the task must be completed with a request for a new one, local activities still running. */
  public boolean needsNewTask() {
    return needsNewTask;
  }

  /**
   * Whether this run may be kept in memory across tasks; only then can a task end while its local
   * activities still run.
   */
  public void keepAliveAcrossTasks(boolean allowed) {
    keepAlive = allowed;
  }

  /**
   * The outcome side of a handle (activities, local activities, child workflows): resolved once, with a
   * result or a failure wrapped for its kind; {@link #result()} blocks the workflow until then.
   */
  private abstract class Outcome<R> implements Cancellable {
    final Type resultType;
    /** The scope it was started in; cancelling that scope cancels it. */
    Scope scope;
    boolean done;
    private Object result;
    private RuntimeException failure;

    Outcome(Type resultType) {
      this.resultType = resultType;
    }

    /** The exception the code sees for a failure with this cause. */
    abstract RuntimeException wrap(RuntimeException cause);

    void completed(io.temporal.api.common.v1.Payloads payloads) {
      if (done) {
        return;
      }
      done = true;
      if (scope != null) {
        scope.finished(this);
      }
      result = payloads.getPayloadsCount() == 0 || resultType == Void.class || resultType == void.class
          ? null : converter.fromPayload(Protos.fromProto(payloads.getPayloads(0)), resultType);
    }

    void failed(RuntimeException cause) {
      if (done) {
        return;
      }
      done = true;
      if (scope != null) {
        scope.finished(this);
      }
      failure = wrap(cause);
    }

    @SuppressWarnings("unchecked")
    public R result() {
      DeterministicScheduler.await(() -> done);
      if (failure != null) {
        throw failure;
      }
      return (R) result;
    }

    public boolean isDone() {
      return done;
    }

    RuntimeException failure() {
      return failure;
    }

    /** Registers with the current scope, which may cancel it at once. */
    void enterScope() {
      scope = currentScope();
      scope.started(this);
    }
  }

  /** The outcome side of an activity handle, shared by task-queue and local activities. */
  private abstract class ActivityOutcome<R> extends Outcome<R> implements ActivityHandle<R> {
    final String type;
    final String activityId;

    ActivityOutcome(String type, String activityId, Type resultType) {
      super(resultType);
      this.type = type;
      this.activityId = activityId;
    }

    @Override
    RuntimeException wrap(RuntimeException cause) {
      return new ActivityFailure(type, activityId, cause);
    }

    @Override
    public void cancelFromScope() {
      cancel();
    }
  }

  /** A local activity the code started, as its handle; settled from its outcome or its marker. */
  private final class LocalState<R> extends ActivityOutcome<R> {
    private LocalActivities.Running running;
    private HistoryEvent marker;
    private io.temporal.api.common.v1.Payloads input;
    private dev.perdura.workflow.LocalActivityOptions options;

    LocalState(String type, String activityId, Type resultType) {
      super(type, activityId, resultType);
    }

    /** Resolves the handle and makes the marker command that records the outcome. */
    void settle(io.temporal.api.common.v1.Payloads resultPayloads, io.temporal.api.failure.v1.Failure failureProto) {
      var marker = io.temporal.api.command.v1.RecordMarkerCommandAttributes.newBuilder()
          .setMarkerName(LOCAL_ACTIVITY_MARKER)
          .putDetails("activityId", Protos.encode(converter, List.of(activityId)))
          .putDetails("type", Protos.encode(converter, List.of(type)));
      if (failureProto != null) {
        failed(Failures.fromProto(failureProto));
        marker.setFailure(failureProto);
      } else {
        var payloads = resultPayloads == null ? io.temporal.api.common.v1.Payloads.getDefaultInstance() : resultPayloads;
        marker.putDetails("result", payloads);
        completed(payloads);
      }
      add(Command.newBuilder()
          .setCommandType(CommandType.COMMAND_TYPE_RECORD_MARKER)
          .setRecordMarkerCommandAttributes(marker)
          .build(), this);
    }

    @Override
    public void cancel() {
      if (!done && running != null) {
        running.cancel();
      }
    }
  }

  // ---- what workflow code calls ----------------------------------------------------------------

  private void add(Command command, Object owner) {
    produced.add(new Produced(command, owner));
  }

  public WorkflowInfo info() {
    return info;
  }

  public Instant now() {
    return now;
  }

  public Random random() {
    return random;
  }

  public boolean isCancelRequested() {
    return cancelRequested;
  }

  public PayloadConverter converter() {
    return converter;
  }

  public void sleep(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      return;
    }
    String timerId = Integer.toString(++sequence);
    TimerState timer = new TimerState(timerId);
    timersById.put(timerId, timer);
    timer.command = Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_START_TIMER)
        .setStartTimerCommandAttributes(StartTimerCommandAttributes.newBuilder()
            .setTimerId(timerId).setStartToFireTimeout(Protos.toProto(duration)))
        .build();
    add(timer.command, timer);
    Scope scope = currentScope();
    scope.started(timer);
    DeterministicScheduler.await(() -> timer.fired || timer.cancelled);
    scope.finished(timer);
    if (!timer.fired) {
      throw new CanceledFailure("sleep cancelled: its cancellation scope was cancelled");
    }
  }

  /** Blocks until the condition holds; throws when the current scope is cancelled first. */
  public void await(java.util.function.BooleanSupplier condition) {
    Scope scope = currentScope();
    DeterministicScheduler.await(() -> condition.getAsBoolean() || scope.cancelRequested);
    if (!condition.getAsBoolean()) {
      throw new CanceledFailure("await cancelled: its cancellation scope was cancelled");
    }
  }

  public <R> ActivityHandle<R> startActivity(String type, Type resultType, ActivityOptions options, Object[] args) {
    String activityId = Integer.toString(++sequence);
    ScheduleActivityTaskCommandAttributes.Builder attributes = ScheduleActivityTaskCommandAttributes.newBuilder()
        .setActivityId(activityId)
        .setActivityType(ActivityType.newBuilder().setName(type))
        .setTaskQueue(TaskQueue.newBuilder().setName(options.taskQueue() == null ? info.taskQueue() : options.taskQueue()))
        .setInput(Protos.encode(converter, Arrays.asList(args)))
        .setPriority(Protos.toProto(options.priority()));
    if (options.scheduleToCloseTimeout() != null) {
      attributes.setScheduleToCloseTimeout(Protos.toProto(options.scheduleToCloseTimeout()));
    }
    if (options.scheduleToStartTimeout() != null) {
      attributes.setScheduleToStartTimeout(Protos.toProto(options.scheduleToStartTimeout()));
    }
    if (options.startToCloseTimeout() != null) {
      attributes.setStartToCloseTimeout(Protos.toProto(options.startToCloseTimeout()));
    }
    if (options.heartbeatTimeout() != null) {
      attributes.setHeartbeatTimeout(Protos.toProto(options.heartbeatTimeout()));
    }
    if (options.retryPolicy() != null) {
      attributes.setRetryPolicy(Protos.toProto(options.retryPolicy()));
    }
    ActivityState<R> activity = new ActivityState<>(type, activityId, resultType, options.cancellationType());
    activitiesById.put(activityId, activity);
    Command command = Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
        .setScheduleActivityTaskCommandAttributes(attributes)
        .build();
    activity.scheduleCommand = command;
    add(command, activity);
    activity.enterScope();
    return activity;
  }

  public <R> ChildWorkflowHandle<R> startChildWorkflow(String type, Type resultType, ChildWorkflowOptions options,
      Object[] args) {
    String workflowId = options.workflowId() != null ? options.workflowId()
        : info.workflowId() + "-child-" + new java.util.UUID(random.nextLong(), random.nextLong());
    var attributes = io.temporal.api.command.v1.StartChildWorkflowExecutionCommandAttributes.newBuilder()
        .setWorkflowId(workflowId)
        .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(type))
        .setTaskQueue(TaskQueue.newBuilder().setName(options.taskQueue() == null ? info.taskQueue() : options.taskQueue()))
        .setInput(Protos.encode(converter, Arrays.asList(args)))
        .setParentClosePolicy(switch (options.parentClosePolicy()) {
          case TERMINATE -> io.temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE;
          case REQUEST_CANCEL -> io.temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL;
          case ABANDON -> io.temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON;
        });
    if (options.executionTimeout() != null) {
      attributes.setWorkflowExecutionTimeout(Protos.toProto(options.executionTimeout()));
    }
    if (options.runTimeout() != null) {
      attributes.setWorkflowRunTimeout(Protos.toProto(options.runTimeout()));
    }
    if (options.retryPolicy() != null) {
      attributes.setRetryPolicy(Protos.toProto(options.retryPolicy()));
    }
    ChildState<R> child = new ChildState<>(type, workflowId, resultType);
    if (childrenById.putIfAbsent(workflowId, child) != null) {
      throw new IllegalArgumentException("this run already started a child with workflow id " + workflowId);
    }
    child.command = Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION)
        .setStartChildWorkflowExecutionCommandAttributes(attributes)
        .build();
    add(child.command, child);
    child.enterScope();
    return child;
  }

  /** Type of the {@link ApplicationFailure} when a signalled workflow is not running. */
  public static final String EXTERNAL_WORKFLOW_NOT_FOUND = "ExternalWorkflowExecutionNotFound";

  /** Sends a signal to another workflow and blocks until the server has delivered it. */
  @SuppressWarnings("deprecation") // control pairs the command with its event
  public void signalExternalWorkflow(String workflowId, String runId, String signalName, Object[] args) {
    String id = Integer.toString(++sequence);
    SignalState signal = new SignalState();
    signal.command = Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION)
        .setSignalExternalWorkflowExecutionCommandAttributes(
            io.temporal.api.command.v1.SignalExternalWorkflowExecutionCommandAttributes.newBuilder()
                .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder()
                    .setWorkflowId(workflowId).setRunId(runId == null ? "" : runId))
                .setSignalName(signalName)
                .setInput(Protos.encode(converter, Arrays.asList(args)))
                .setControl(id))
        .build();
    add(signal.command, signal);
    signal.enterScope();
    signal.result();
  }

  /** A signal the code sent to another workflow: resolved when delivered, or failed. */
  private final class SignalState extends Outcome<Void> {
    private Command command;

    SignalState() {
      super(Void.class);
    }

    @Override
    RuntimeException wrap(RuntimeException cause) {
      return cause;
    }

    /** A signal not sent yet is taken back; one already sent is left to arrive. */
    @Override
    public void cancelFromScope() {
      if (!done && produced.stream().skip(matched).anyMatch(p -> p.command() == command)) {
        produced.removeIf(p -> p.command() == command);
        failed(new CanceledFailure("signal cancelled before it was sent"));
      }
    }
  }

  /** A child workflow the code started, as its handle. */
  private final class ChildState<R> extends Outcome<R> implements ChildWorkflowHandle<R> {
    private final String type;
    private final String workflowId;
    private Command command;
    private boolean cancelRequested;
    private long initiatedEventId;
    private String runId;

    ChildState(String type, String workflowId, Type resultType) {
      super(resultType);
      this.type = type;
      this.workflowId = workflowId;
    }

    @Override
    RuntimeException wrap(RuntimeException cause) {
      return new dev.perdura.failure.ChildWorkflowFailure(type, workflowId, cause);
    }

    @Override
    public String workflowId() {
      return workflowId;
    }

    @Override
    public String awaitStarted() {
      DeterministicScheduler.await(() -> runId != null || done);
      if (runId == null) {
        throw failure();
      }
      return runId;
    }

    /**
     * A start not sent yet is taken back; otherwise the server is asked to cancel the child, which
     * decides how to end: {@link #result()} resolves when it has ended.
     */
    @Override
    public void cancel() {
      if (done || cancelRequested) {
        return;
      }
      cancelRequested = true;
      if (initiatedEventId == 0) {
        produced.removeIf(p -> p.command() == command);
        failed(new CanceledFailure("child workflow cancelled before it was started"));
        return;
      }
      add(Command.newBuilder()
          .setCommandType(CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION)
          .setRequestCancelExternalWorkflowExecutionCommandAttributes(
              io.temporal.api.command.v1.RequestCancelExternalWorkflowExecutionCommandAttributes.newBuilder()
                  .setWorkflowId(workflowId)
                  .setChildWorkflowOnly(true)
                  .setReason("cancelled by its parent"))
          .build(), this);
    }

    @Override
    public void cancelFromScope() {
      cancel();
    }
  }

  /** A timer the code started, for {@link #sleep}. */
  private final class TimerState implements Cancellable {
    final String timerId;
    Command command;
    /** Its StartTimer command has been matched to a TimerStarted event. */
    boolean started;
    boolean fired;
    boolean cancelled;

    TimerState(String timerId) {
      this.timerId = timerId;
    }

    @Override
    public void cancelFromScope() {
      if (fired || cancelled) {
        return;
      }
      cancelled = true;
      if (!started) {
        // Not sent yet: take the command back; the server never hears of this timer.
        produced.removeIf(p -> p.command() == command);
        return;
      }
      add(Command.newBuilder()
          .setCommandType(CommandType.COMMAND_TYPE_CANCEL_TIMER)
          .setCancelTimerCommandAttributes(io.temporal.api.command.v1.CancelTimerCommandAttributes.newBuilder()
              .setTimerId(timerId))
          .build(), this);
    }
  }

  /** An activity the code started, as its handle. */
  private final class ActivityState<R> extends ActivityOutcome<R> {
    private final ActivityCancellationType cancellationType;
    private Command scheduleCommand;
    private long scheduledEventId;
    private boolean cancelRequested;

    ActivityState(String type, String activityId, Type resultType, ActivityCancellationType cancellationType) {
      super(type, activityId, resultType);
      this.cancellationType = cancellationType;
    }

    @Override
    public void cancel() {
      if (done || cancelRequested) {
        return;
      }
      cancelRequested = true;
      if (scheduledEventId == 0) {
        // Not sent yet: take the command back; the server never hears of this activity.
        produced.removeIf(p -> p.command() == scheduleCommand);
        failed(new CanceledFailure("activity cancelled before it was scheduled"));
        return;
      }
      if (cancellationType != ActivityCancellationType.ABANDON) {
        add(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK)
            .setRequestCancelActivityTaskCommandAttributes(RequestCancelActivityTaskCommandAttributes.newBuilder()
                .setScheduledEventId(scheduledEventId))
            .build(), this);
      }
      if (cancellationType != ActivityCancellationType.WAIT_CANCELLATION_COMPLETED) {
        failed(new CanceledFailure("activity cancelled"));
      }
    }
  }

  // ---- cancellation scopes ---------------------------------------------------------------------

  /** Something started in a scope that the scope's cancellation must cancel. */
  private interface Cancellable {
    void cancelFromScope();
  }

  /** The scope of each workflow thread (its virtual thread); the root when none was entered. */
  private static final ThreadLocal<Scope> CURRENT_SCOPE = new ThreadLocal<>();

  private Scope currentScope() {
    Scope scope = CURRENT_SCOPE.get();
    return scope == null ? root : scope;
  }

  public CancellationScope currentCancellationScope() {
    return currentScope();
  }

  public CancellationScope newCancellationScope(Runnable body, boolean detached) {
    return new Scope(currentScope(), detached, body);
  }

  /** A cancel request for the workflow cancels its root scope, once the task's events are applied. */
  private void applyCancelRequest() {
    if (cancelPending) {
      cancelPending = false;
      root.cancel();
    }
  }

  /**
   * A node of the run's scope tree. It holds what was started in it and is not finished, and its
   * children while they have anything left to cancel, so finished work does not pile up in a
   * long-running workflow.
   */
  private final class Scope implements CancellationScope {
    private final Scope parent;
    private final boolean detached;
    private final Runnable body;
    private final java.util.Set<Cancellable> pending = new java.util.LinkedHashSet<>();
    private final java.util.Set<Scope> children = new java.util.LinkedHashSet<>();
    private boolean running;
    private boolean ran;
    private boolean cancelRequested;

    Scope(Scope parent, boolean detached, Runnable body) {
      this.parent = parent;
      this.detached = detached;
      this.body = body;
      this.cancelRequested = parent != null && !detached && parent.cancelRequested;
    }

    @Override
    public void run() {
      if (body == null) {
        throw new IllegalStateException("the workflow's root scope has no body to run");
      }
      if (ran) {
        throw new IllegalStateException("a cancellation scope runs once");
      }
      ran = true;
      running = true;
      if (parent != null && !detached) {
        parent.children.add(this);
      }
      Scope previous = CURRENT_SCOPE.get();
      CURRENT_SCOPE.set(this);
      try {
        body.run();
      } finally {
        if (previous == null) {
          CURRENT_SCOPE.remove();
        } else {
          CURRENT_SCOPE.set(previous);
        }
        running = false;
        retireIfIdle();
      }
    }

    @Override
    public void cancel() {
      if (cancelRequested) {
        return;
      }
      cancelRequested = true;
      for (Cancellable operation : List.copyOf(pending)) {
        operation.cancelFromScope();
      }
      for (Scope child : List.copyOf(children)) {
        child.cancel();
      }
    }

    @Override
    public boolean isCancelRequested() {
      return cancelRequested;
    }

    @Override
    public boolean isDetached() {
      return detached;
    }

    void started(Cancellable operation) {
      if (cancelRequested) {
        operation.cancelFromScope();
        return;
      }
      pending.add(operation);
    }

    void finished(Cancellable operation) {
      pending.remove(operation);
      retireIfIdle();
    }

    private void retireIfIdle() {
      if (!running && pending.isEmpty() && children.isEmpty() && parent != null) {
        parent.children.remove(this);
        parent.retireIfIdle();
      }
    }
  }
}
