package dev.perdura.server.store;

import java.util.List;

/**
 * Everything one change does to one execution, written atomically with the other writes of the
 * same commit.
 *
 * @param row the new state; its {@code version} must be {@code expectedVersion + 1}
 * @param expectedVersion the version the change was computed from; 0 for a new execution
 * @param makeCurrent point the workflow id's current run at this run
 * @param events new history events, ids contiguous after what is stored
 * @param putTasks backlog tasks to insert or replace
 * @param deleteTasks backlog tasks to remove (matched on execution, kind, scheduledEventId)
 * @param putTimers timers to insert or move
 * @param deleteTimerKeys timers of this execution to remove
 * @param clearTasksAndTimers remove every task and timer of this execution first (the run closed)
 * @param purge delete the execution, its history and its current-run pointer (retention); the
 *     row's version is checked as for an update, and nothing else of the write applies
 * @param stateOnly of the row, only the state, status and history length differ from the version
 *     read: the store may leave the other columns, and the indexes over them, as they are
 */
public record ExecutionWrite(
    ExecutionRow row,
    long expectedVersion,
    boolean makeCurrent,
    List<EventRow> events,
    List<TaskRow> putTasks,
    List<TaskRow> deleteTasks,
    List<TimerRow> putTimers,
    List<String> deleteTimerKeys,
    boolean clearTasksAndTimers,
    boolean purge,
    boolean stateOnly) {
  /** A write that rewrites every column of the row. */
  public ExecutionWrite(ExecutionRow row, long expectedVersion, boolean makeCurrent, List<EventRow> events,
      List<TaskRow> putTasks, List<TaskRow> deleteTasks, List<TimerRow> putTimers, List<String> deleteTimerKeys,
      boolean clearTasksAndTimers, boolean purge) {
    this(row, expectedVersion, makeCurrent, events, putTasks, deleteTasks, putTimers, deleteTimerKeys,
        clearTasksAndTimers, purge, false);
  }

  public ExecutionWrite {
    if (stateOnly && expectedVersion == 0) {
      throw new IllegalArgumentException("a new execution writes every column");
    }
    events = List.copyOf(events);
    putTasks = List.copyOf(putTasks);
    deleteTasks = List.copyOf(deleteTasks);
    putTimers = List.copyOf(putTimers);
    deleteTimerKeys = List.copyOf(deleteTimerKeys);
  }
}
