package dev.perdura.server.history;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Timestamps;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import dev.perdura.server.store.VisibilityRow;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * A working copy of one run inside one change: its state plus everything the change writes
 * (events, tasks, timers). Turned into an {@link ExecutionWrite} when the change succeeds; thrown
 * away when it fails, which is what makes a change all-or-nothing.
 */
final class Execution {
  final ExecutionKey key;
  final ExecutionState state;
  final long readVersion;
  /** The visibility columns of the row this copy was read from; null for a new run. */
  VisibilityRow readVisibility;
  final long now;
  final List<EventRow> newEvents = new ArrayList<>();
  // What the change does to the run's queued tasks and armed timers (the state holds them all),
  // for the in-memory task queues and timer queue once the change is written.
  final List<TaskRow> putTasks = new ArrayList<>();
  final List<TimerRow> putTimers = new ArrayList<>();
  final List<String> deleteTimers = new ArrayList<>();
  /** Activities this change started for the worker completing a workflow task (not persisted). */
  final List<Activities.EagerStart> eagerStarts = new ArrayList<>();
  /** The run closed: its tasks and timers leave the in-memory queues (some may be armed again after). */
  boolean clearedTasksAndTimers;
  /** Tasks and timers of a state from before they were kept in it were folded in: delete their old rows. */
  boolean deleteLegacyRows;
  /** Whether the stored state (what {@link #readVersion} names) held a queued task or an armed timer. */
  private final boolean readHadTasksOrTimers;
  /**
   * Events of earlier changes of this run that were held back rather than written (see {@link
   * HistoryShard}, "Writes held back"): this run's next write carries them, ahead of its own.
   */
  private final List<EventRow> carriedEvents;
  /** Delete the run altogether (retention). */
  boolean purge;
  boolean makeCurrent;
  private boolean changed;

  Execution(ExecutionKey key, ExecutionState state, long readVersion, long now) {
    this(key, state, readVersion, now, state.hasTasksOrTimers(), List.of());
  }

  /**
   * A run whose latest changes are held back: {@code state} is the newest, {@code readVersion} and
   * {@code readHadTasksOrTimers} describe the stored row, and {@code carriedEvents} are the events
   * between the two.
   */
  Execution(ExecutionKey key, ExecutionState state, long readVersion, long now, boolean readHadTasksOrTimers,
      List<EventRow> carriedEvents) {
    this.key = key;
    this.state = state;
    this.readVersion = readVersion;
    this.now = now;
    this.readHadTasksOrTimers = readHadTasksOrTimers;
    this.carriedEvents = carriedEvents;
  }

  /** Whether the stored row's state held a queued task or an armed timer. */
  boolean storedHadTasksOrTimers() {
    return readHadTasksOrTimers;
  }

  void markChanged() {
    changed = true;
  }

  boolean changed() {
    return changed || !newEvents.isEmpty();
  }

  /** Appends an event now, giving it the next id; returns that id. */
  long append(HistoryEvent.Builder event) {
    changed = true;
    long id = state.nextEventId++;
    event.setEventId(id);
    if (!event.hasEventTime()) {
      event.setEventTime(Timestamps.fromMillis(now));
    }
    linkActivityCloseToStarted(event, id);
    HistoryEvent built = event.build();
    byte[] data = built.toByteArray();
    state.historySizeBytes += data.length;
    newEvents.add(new EventRow(id, data));
    return id;
  }

  /**
   * Appends an event, or buffers it while a workflow task is in flight (no event may sit between
   * a WorkflowTaskStarted and its completion); buffered events get their ids when flushed.
   */
  void appendOrBuffer(HistoryEvent.Builder event) {
    if (state.workflowTaskStarted()) {
      changed = true;
      if (!event.hasEventTime()) {
        event.setEventTime(Timestamps.fromMillis(now));
      }
      state.bufferedEvents.add(event.build().toByteArray());
    } else {
      append(event);
    }
  }

  boolean hasBufferedEvents() {
    return !state.bufferedEvents.isEmpty();
  }

  /** Appends the buffered events in arrival order. */
  void flushBufferedEvents() {
    List<byte[]> buffered = state.bufferedEvents;
    state.bufferedEvents = new ArrayList<>();
    for (byte[] bytes : buffered) {
      try {
        append(HistoryEvent.parseFrom(bytes).toBuilder());
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("buffered event of " + key + " is unreadable", e);
      }
    }
  }

  /**
   * The lazily written ActivityTaskStarted always directly precedes the activity's closing event,
   * so a closing event built with started id -1 refers to the event just before it.
   */
  private static void linkActivityCloseToStarted(HistoryEvent.Builder event, long id) {
    switch (event.getEventType()) {
      case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
        if (event.getActivityTaskCompletedEventAttributes().getStartedEventId() == -1) {
          event.getActivityTaskCompletedEventAttributesBuilder().setStartedEventId(id - 1);
        }
      }
      case EVENT_TYPE_ACTIVITY_TASK_FAILED -> {
        if (event.getActivityTaskFailedEventAttributes().getStartedEventId() == -1) {
          event.getActivityTaskFailedEventAttributesBuilder().setStartedEventId(id - 1);
        }
      }
      case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT -> {
        if (event.getActivityTaskTimedOutEventAttributes().getStartedEventId() == -1) {
          event.getActivityTaskTimedOutEventAttributesBuilder().setStartedEventId(id - 1);
        }
      }
      case EVENT_TYPE_ACTIVITY_TASK_CANCELED -> {
        if (event.getActivityTaskCanceledEventAttributes().getStartedEventId() == -1) {
          event.getActivityTaskCanceledEventAttributesBuilder().setStartedEventId(id - 1);
        }
      }
      default -> {}
    }
  }

  void putTask(TaskKind kind, String taskQueue, long scheduledEventId, int attempt, byte[] priority) {
    changed = true;
    Priority p = Protos.priority(priority);
    TaskRow task = new TaskRow(
        key,
        kind,
        taskQueue,
        scheduledEventId,
        attempt,
        p.getPriorityKey(),
        p.getFairnessKey(),
        p.getFairnessWeight(),
        now);
    state.queuedTasks.removeIf(t -> t.kind() == kind && t.scheduledEventId() == scheduledEventId);
    state.queuedTasks.add(task);
    putTasks.add(task);
  }

  /** The task left its queue (started, or no longer wanted). */
  void deleteTask(TaskKind kind, long scheduledEventId) {
    changed = true;
    state.queuedTasks.removeIf(t -> t.kind() == kind && t.scheduledEventId() == scheduledEventId);
  }

  /**
   * Takes back a task this change queued, to start it in the same change: it never reaches a queue.
   * False when this change did not queue it.
   */
  boolean withdrawQueuedTask(TaskKind kind, long scheduledEventId) {
    boolean queuedHere = putTasks.removeIf(t -> t.kind() == kind && t.scheduledEventId() == scheduledEventId);
    if (queuedHere) {
      deleteTask(kind, scheduledEventId);
    }
    return queuedHere;
  }

  void putTimer(String timerKey, long fireAt) {
    changed = true;
    state.armedTimers.put(timerKey, fireAt);
    // The last call for a key wins: a put replaces the armed copy, so an earlier delete is moot.
    deleteTimers.removeIf(timerKey::equals);
    putTimers.removeIf(t -> t.timerKey().equals(timerKey));
    putTimers.add(new TimerRow(key, timerKey, fireAt));
  }

  void deleteTimer(String timerKey) {
    if (state.armedTimers.remove(timerKey) == null) {
      return;
    }
    changed = true;
    // A timer armed earlier in this change need not reach the timer queue at all; the cancel still
    // goes out for a copy armed by an earlier change under the same key.
    putTimers.removeIf(t -> t.timerKey().equals(timerKey));
    deleteTimers.add(timerKey);
  }

  /** Drops every queued task and armed timer of the run (it closed). */
  void clearTasksAndTimers() {
    changed = true;
    state.queuedTasks.clear();
    state.armedTimers.clear();
    putTasks.clear();
    putTimers.clear();
    deleteTimers.clear();
    clearedTasksAndTimers = true;
  }

  ExecutionWrite toWrite(StateCodec.Encoder encoder) {
    ExecutionState s = state;
    VisibilityRow visibility =
        new VisibilityRow(
            s.workflowType,
            s.taskQueue,
            s.status,
            s.startTime,
            s.closeTime,
            s.executionTime,
            s.nextEventId - 1,
            s.firstRunId,
            s.memo == null ? new byte[0] : s.memo,
            s.searchAttributes == null ? new byte[0] : s.searchAttributes);
    ExecutionRow row = new ExecutionRow(key, readVersion + 1, encoder.encode(s), visibility);
    boolean pending = s.hasTasksOrTimers();
    boolean stateOnly = readVisibility != null
        && onlyStatusOrLengthDiffer(readVisibility, visibility)
        && pending == readHadTasksOrTimers
        && !deleteLegacyRows
        && !purge;
    List<EventRow> events = newEvents;
    if (!carriedEvents.isEmpty()) {
      events = new ArrayList<>(carriedEvents);
      events.addAll(newEvents);
    }
    return new ExecutionWrite(row, readVersion, makeCurrent, events, pending, deleteLegacyRows, purge, stateOnly);
  }

  /** Whether the status and history length are the only visibility columns that changed. */
  private static boolean onlyStatusOrLengthDiffer(VisibilityRow before, VisibilityRow after) {
    return before.workflowType().equals(after.workflowType())
        && before.taskQueue().equals(after.taskQueue())
        && before.startTimeMillis() == after.startTimeMillis()
        && before.closeTimeMillis() == after.closeTimeMillis()
        && before.executionTimeMillis() == after.executionTimeMillis()
        && before.firstRunId().equals(after.firstRunId())
        && java.util.Arrays.equals(before.memo(), after.memo())
        && java.util.Arrays.equals(before.searchAttributes(), after.searchAttributes());
  }
}
