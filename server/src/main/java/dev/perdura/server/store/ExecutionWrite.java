package dev.perdura.server.store;

import java.util.List;

/**
 * Everything one change does to one execution, written atomically with the other writes of the
 * same commit. The run's queued tasks and armed timers are part of its state; {@code pending} says
 * whether there are any, so that a restart finds the runs to read them from ({@link
 * Store#loadPending}).
 *
 * @param row the new state; its {@code version} must be {@code expectedVersion + 1}
 * @param expectedVersion the version the change was computed from; 0 for a new execution
 * @param makeCurrent point the workflow id's current run at this run
 * @param events new history events, ids contiguous after what is stored
 * @param pending the state holds a queued task or an armed timer
 * @param deleteLegacyRows delete the task and timer rows a server before this format wrote for
 *     the run: the state holds them now
 * @param purge delete the execution, its history and its current-run pointer (retention); the
 *     row's version is checked as for an update, and nothing else of the write applies
 * @param stateOnly of the row, only the state, status and history length differ from the version
 *     read (and {@code pending} does not): the store may leave the other columns, and the indexes
 *     over them, as they are
 */
public record ExecutionWrite(
    ExecutionRow row,
    long expectedVersion,
    boolean makeCurrent,
    List<EventRow> events,
    boolean pending,
    boolean deleteLegacyRows,
    boolean purge,
    boolean stateOnly) {
  /** A write that rewrites every column of the row. */
  public ExecutionWrite(ExecutionRow row, long expectedVersion, boolean makeCurrent, List<EventRow> events,
      boolean pending, boolean purge) {
    this(row, expectedVersion, makeCurrent, events, pending, false, purge, false);
  }

  public ExecutionWrite {
    if (stateOnly && expectedVersion == 0) {
      throw new IllegalArgumentException("a new execution writes every column");
    }
    events = List.copyOf(events);
  }
}
