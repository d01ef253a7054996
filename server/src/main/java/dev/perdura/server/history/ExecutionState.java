package dev.perdura.server.history;

import dev.perdura.server.store.TaskRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mutable state of one workflow run: everything needed to decide what happens next without
 * reading its history. Persisted in the execution row by {@link StateCodec}; owned by the history
 * shard thread while a change is computed (never shared across threads).
 */
final class ExecutionState {
  String namespace;
  String workflowId;
  String runId;
  String firstRunId;
  String workflowType;
  String taskQueue;
  int status = Statuses.RUNNING;
  long startTime;
  long closeTime;
  long executionTime;
  /** Id the next history event gets. */
  long nextEventId = 1;
  long historySizeBytes;
  /** Started event id of the last completed workflow task (previous_started_event_id). */
  long lastCompletedWftStartedId;
  String startRequestId = "";
  /** Request ids of recent signals and cancel requests, for dedupe of client retries. */
  List<String> recentRequestIds = new ArrayList<>();
  boolean cancelRequested;
  long workflowTaskTimeoutMillis;
  long runTimeoutMillis;
  long executionTimeoutMillis;
  /** Epoch millis at which the run times out (min of run and execution deadline), 0 = never. */
  long runDeadline;
  long executionDeadline;
  byte[] memo;
  byte[] searchAttributes;
  byte[] priority;
  /** The workflow task, when one is scheduled or started. */
  WorkflowTaskInfo workflowTask;
  /** Attempt of the next workflow task: grows with failures and timeouts, 1 after a completion. */
  int workflowTaskAttempt = 1;
  /** Events produced while a workflow task was started; serialized HistoryEvent without id. */
  List<byte[]> bufferedEvents = new ArrayList<>();
  TreeMap<Long, ActivityInfo> activities = new TreeMap<>();
  Map<String, TimerInfo> timers = new LinkedHashMap<>();
  /**
   * The worker's sticky queue, when its last completion asked for one: the next workflow tasks go
   * there with only the new events, since that worker has the run cached.
   */
  String stickyQueue;
  long stickyScheduleToStartMillis;
  /** Run that continued this one (continue-as-new or a retry), for the closing event. */
  String continuedRunId;
  /** The run's retry policy (an encoded RetryPolicy with defaults filled), null without one. */
  byte[] retryPolicy;
  /** This run's attempt: 1, or one more than the failed run it retries. */
  int attempt = 1;
  /** What a retry starts from (encoded Payloads and Header of this run's start), kept only with a policy. */
  byte[] retryInput;
  byte[] retryHeader;
  /** The parent, when this run is a child workflow; null otherwise. */
  String parentNamespace;
  String parentWorkflowId;
  String parentRunId;
  long parentInitiatedEventId;
  /** Child workflows initiated and not closed yet, by their initiated event id. */
  TreeMap<Long, ChildInfo> children = new TreeMap<>();
  /** Signals and cancel requests to other workflows, initiated and not delivered yet. */
  TreeMap<Long, ExternalInfo> externals = new TreeMap<>();
  /**
   * The run's tasks waiting in a task queue's backlog (queued, not started), at most one per kind
   * and scheduled event: what a restart puts back into the queues.
   */
  List<TaskRow> queuedTasks = new ArrayList<>();
  /** The run's durable timers (timeouts, retries, user timers, pending steps) by key: when each fires. */
  Map<String, Long> armedTimers = new LinkedHashMap<>();
  /**
   * False for a state written before the run's tasks and timers were kept in it (they are rows of
   * their own then, folded in when the run next changes).
   */
  boolean holdsTasksAndTimers = true;

  /** Whether a restart has anything of this run to put back: a queued task or an armed timer. */
  boolean hasTasksOrTimers() {
    return !queuedTasks.isEmpty() || !armedTimers.isEmpty();
  }

  boolean isRunning() {
    return status == Statuses.RUNNING;
  }

  /** A workflow task is in flight: events must be buffered until it ends. */
  boolean workflowTaskStarted() {
    return workflowTask != null && workflowTask.started;
  }

  void rememberRequestId(String requestId) {
    if (requestId == null || requestId.isEmpty()) {
      return;
    }
    recentRequestIds.add(requestId);
    if (recentRequestIds.size() > 100) {
      recentRequestIds.remove(0);
    }
  }

  /** The workflow task in flight or waiting. */
  static final class WorkflowTaskInfo {
    long scheduledEventId;
    long startedEventId;
    int attempt;
    boolean started;
    long scheduledTime;
    long startedTime;
    String taskQueue;
    long startToCloseMillis;
    /** Dispatched on a sticky queue: the poller gets only the events it has not seen. */
    boolean sticky;
  }

  /** A child workflow the run initiated: waiting to be started, or running. */
  static final class ChildInfo {
    long initiatedEventId;
    String namespace;
    String workflowId;
    String workflowType;
    /** Its first run, once started; empty before. */
    String runId = "";
    long startedEventId;
    /** {@code ParentClosePolicy} number. */
    int parentClosePolicy;
    /** The {@code StartChildWorkflowExecutionCommandAttributes}, to start it from. */
    byte[] command;
  }

  /** A signal or cancel request this run sends to another workflow, waiting to be delivered. */
  static final class ExternalInfo {
    long initiatedEventId;
    /** True for a cancel request, false for a signal. */
    boolean cancel;
    String namespace;
    String workflowId;
    /** Empty for the workflow id's current run. */
    String runId = "";
    boolean childWorkflowOnly;
    /** The command's attributes, to deliver from. */
    byte[] command;
  }

  /** A user timer that has started and not yet fired or been cancelled. */
  static final class TimerInfo {
    String timerId;
    long startedEventId;
    long fireTime;
  }
}
