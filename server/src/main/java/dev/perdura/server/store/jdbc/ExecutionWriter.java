package dev.perdura.server.store.jdbc;

import dev.perdura.server.store.ConcurrentUpdateException;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.VisibilityRow;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Writes the executions of one commit inside its transaction, in as few statements as the writes
 * allow: the writes of one run are merged into one (its last row, checked against the version the
 * first was computed from, with all their events in one history batch), and each kind of statement
 * (new rows, updates, narrow updates, current-run pointers, history batches) runs as one JDBC batch.
 * PostgreSQL's driver sends a batch in one round trip, so a commit costs the same handful of round
 * trips however many changes it holds; SQLite steps the same statements either way.
 *
 * <p>A commit holding a purge (retention) runs its writes one at a time, in their order: a purge
 * deletes rows the other statements of the same run or workflow id would otherwise touch.
 *
 * <p>PostgreSQL sends the same writes as one statement instead, checks included
 * ({@code store.postgres.PostgresCommit}); this remains its way for purges and legacy rows.
 */
public final class ExecutionWriter {
  static final String EXECUTION_COLUMNS =
      "namespace, workflow_id, run_id, version, state, workflow_type, task_queue, status, start_time,"
          + " close_time, execution_time, history_length, first_run_id, memo, search_attributes";

  /** A run's number (see {@code JdbcStore.nextRunSeq}), for statements over its history batches. */
  static final String RUN_SEQ_OF =
      "(SELECT run_seq FROM executions WHERE namespace = ? AND workflow_id = ? AND run_id = ?)";

  private static final String INSERT = "INSERT INTO executions (" + EXECUTION_COLUMNS
      + ", pending, run_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
  private static final String UPDATE = "UPDATE executions SET version = ?, state = ?, workflow_type = ?,"
      + " task_queue = ?, status = ?, start_time = ?, close_time = ?, execution_time = ?, history_length = ?,"
      + " first_run_id = ?, memo = ?, search_attributes = ?, pending = ?"
      + " WHERE namespace = ? AND workflow_id = ? AND run_id = ? AND version = ?";
  private static final String UPDATE_STATE = "UPDATE executions SET version = ?, state = ?, status = ?,"
      + " history_length = ? WHERE namespace = ? AND workflow_id = ? AND run_id = ? AND version = ?";
  private static final String MAKE_CURRENT = "INSERT INTO current_executions VALUES (?, ?, ?)"
      + " ON CONFLICT (namespace, workflow_id) DO UPDATE SET run_id = excluded.run_id";
  private static final String INSERT_EVENTS = "INSERT INTO history_batches"
      + " (namespace, workflow_id, run_id, first_event_id, last_event_id, data, run_seq)"
      + " VALUES (?, ?, ?, ?, ?, ?, " + RUN_SEQ_OF + ")";

  private ExecutionWriter() {}

  /** Applies {@code writes} on the session's open transaction; throws when any row is not at its expected version. */
  static void write(Session c, List<ExecutionWrite> writes, LongSupplier runSeq) throws SQLException {
    if (writes.stream().anyMatch(ExecutionWrite::purge)) {
      for (ExecutionWrite w : writes) {
        if (w.purge()) {
          purge(c, w);
        } else {
          writeBatched(c, List.of(w), runSeq);
        }
      }
    } else {
      writeBatched(c, writes, runSeq);
    }
  }

  /** The writes, none a purge; runs that appear more than once are merged first. */
  private static void writeBatched(Session c, List<ExecutionWrite> writes, LongSupplier runSeq) throws SQLException {
    // Small methods per statement: a single large one took the JIT compiler seconds to compile,
    // again and again, long after the server had warmed up.
    ByKind byKind = ByKind.of(writes);
    for (ExecutionWrite w : byKind.merged()) {
      if (w.deleteLegacyRows()) {
        deleteRunRows(c, w.row().key(), List.of("tasks", "timers"));
      }
    }
    List<ExecutionWrite> inserts = byKind.inserts();
    List<ExecutionWrite> updates = byKind.updates();
    List<ExecutionWrite> narrowUpdates = byKind.narrowUpdates();
    if (!inserts.isEmpty()) {
      requireOneRowEach(batch(c, INSERT, inserts, (q, w) -> bindInsert(q, w, runSeq.getAsLong())), inserts);
    }
    if (!updates.isEmpty()) {
      requireOneRowEach(batch(c, UPDATE, updates, ExecutionWriter::bindUpdate), updates);
    }
    if (!narrowUpdates.isEmpty()) {
      requireOneRowEach(batch(c, UPDATE_STATE, narrowUpdates, ExecutionWriter::bindNarrowUpdate), narrowUpdates);
    }
    // In the writes' own order, so a workflow id made current twice ends at the later run.
    List<ExecutionWrite> madeCurrent = writes.stream().filter(ExecutionWrite::makeCurrent).toList();
    if (!madeCurrent.isEmpty()) {
      batch(c, MAKE_CURRENT, madeCurrent, (q, w) -> bindKey(q, 1, w.row().key()));
    }
    if (!byKind.withEvents().isEmpty()) {
      batch(c, INSERT_EVENTS, byKind.withEvents(), ExecutionWriter::bindEvents);
    }
  }

  /**
   * A commit's writes merged per run ({@link #mergeByRun}), then sorted by the statement each
   * needs: a new row, a full update or a narrow one; and those that append events.
   */
  public record ByKind(List<ExecutionWrite> merged, List<ExecutionWrite> inserts, List<ExecutionWrite> updates,
      List<ExecutionWrite> narrowUpdates, List<ExecutionWrite> withEvents) {
    /**
     * @throws ConcurrentUpdateException two writes of one run disagree on its version
     */
    public static ByKind of(List<ExecutionWrite> writes) {
      List<ExecutionWrite> merged = mergeByRun(writes);
      ByKind byKind = new ByKind(merged, new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (ExecutionWrite w : merged) {
        if (w.expectedVersion() == 0) {
          byKind.inserts.add(w);
        } else if (w.stateOnly()) {
          byKind.narrowUpdates.add(w);
        } else {
          byKind.updates.add(w);
        }
        if (!w.events().isEmpty()) {
          byKind.withEvents.add(w);
        }
      }
      return byKind;
    }
  }

  /** Binds one write's values to a statement. */
  private interface Binder {
    void bind(PreparedStatement statement, ExecutionWrite write) throws SQLException;
  }

  /** Runs {@code sql} once per write, as one JDBC batch; the rows each changed. */
  private static int[] batch(Session c, String sql, List<ExecutionWrite> writes, Binder binder) throws SQLException {
    PreparedStatement statement = c.prepared(sql);
    for (ExecutionWrite w : writes) {
      binder.bind(statement, w);
      statement.addBatch();
    }
    return statement.executeBatch();
  }

  private static void bindInsert(PreparedStatement insert, ExecutionWrite w, long runSeq) throws SQLException {
    ExecutionRow row = w.row();
    VisibilityRow v = row.visibility();
    bindKey(insert, 1, row.key());
    insert.setLong(4, row.version());
    insert.setBytes(5, row.state());
    insert.setString(6, v.workflowType());
    insert.setString(7, v.taskQueue());
    insert.setInt(8, v.status());
    insert.setLong(9, v.startTimeMillis());
    insert.setLong(10, v.closeTimeMillis());
    insert.setLong(11, v.executionTimeMillis());
    insert.setLong(12, v.historyLength());
    insert.setString(13, v.firstRunId());
    insert.setBytes(14, v.memo());
    insert.setBytes(15, v.searchAttributes());
    insert.setInt(16, w.pending() ? 1 : 0);
    insert.setLong(17, runSeq);
  }

  private static void bindUpdate(PreparedStatement update, ExecutionWrite w) throws SQLException {
    ExecutionRow row = w.row();
    VisibilityRow v = row.visibility();
    update.setLong(1, row.version());
    update.setBytes(2, row.state());
    update.setString(3, v.workflowType());
    update.setString(4, v.taskQueue());
    update.setInt(5, v.status());
    update.setLong(6, v.startTimeMillis());
    update.setLong(7, v.closeTimeMillis());
    update.setLong(8, v.executionTimeMillis());
    update.setLong(9, v.historyLength());
    update.setString(10, v.firstRunId());
    update.setBytes(11, v.memo());
    update.setBytes(12, v.searchAttributes());
    update.setInt(13, w.pending() ? 1 : 0);
    bindKey(update, 14, row.key());
    update.setLong(17, w.expectedVersion());
  }

  /** Leaves the other columns, and the indexes over them, untouched. */
  private static void bindNarrowUpdate(PreparedStatement update, ExecutionWrite w) throws SQLException {
    ExecutionRow row = w.row();
    update.setLong(1, row.version());
    update.setBytes(2, row.state());
    update.setInt(3, row.visibility().status());
    update.setLong(4, row.visibility().historyLength());
    bindKey(update, 5, row.key());
    update.setLong(8, w.expectedVersion());
  }

  /** One row for all the events of a run: one statement however many events. */
  private static void bindEvents(PreparedStatement events, ExecutionWrite w) throws SQLException {
    ExecutionKey key = w.row().key();
    bindKey(events, 1, key);
    events.setLong(4, w.events().getFirst().eventId());
    events.setLong(5, w.events().getLast().eventId());
    events.setBytes(6, EventBatches.encode(w.events()));
    bindKey(events, 7, key);
  }

  /**
   * One write per run: a run written by several changes of the commit gets its last row, checked
   * against the version its first write read, and the events of all of them in order.
   */
  private static List<ExecutionWrite> mergeByRun(List<ExecutionWrite> writes) {
    Map<ExecutionKey, ExecutionWrite> byRun = new LinkedHashMap<>();
    for (ExecutionWrite w : writes) {
      byRun.merge(w.row().key(), w, ExecutionWriter::merge);
    }
    return byRun.size() == writes.size() ? writes : List.copyOf(byRun.values());
  }

  private static ExecutionWrite merge(ExecutionWrite first, ExecutionWrite then) {
    if (then.expectedVersion() != first.row().version()) {
      throw new ConcurrentUpdateException("execution " + first.row().key() + " written at version "
          + first.row().version() + ", then by a change computed from version " + then.expectedVersion());
    }
    List<EventRow> events = first.events();
    if (!then.events().isEmpty()) {
      events = new ArrayList<>(first.events());
      events.addAll(then.events());
    }
    return new ExecutionWrite(then.row(), first.expectedVersion(), first.makeCurrent() || then.makeCurrent(),
        events, then.pending(), first.deleteLegacyRows() || then.deleteLegacyRows(), false,
        first.stateOnly() && then.stateOnly());
  }

  /** A write whose statement changed no row: its run already existed, or moved past the version read. */
  private static void requireOneRowEach(int[] counts, List<ExecutionWrite> writes) {
    for (int i = 0; i < writes.size(); i++) {
      if (counts[i] != 1) {
        ExecutionWrite w = writes.get(i);
        throw new ConcurrentUpdateException(w.expectedVersion() == 0 ? "execution " + w.row().key() + " already exists"
            : "execution " + w.row().key() + " is no longer at version " + w.expectedVersion());
      }
    }
  }

  private static void purge(Session c, ExecutionWrite w) throws SQLException {
    ExecutionKey key = w.row().key();
    // Before the execution row, which holds the number the batches are found by.
    PreparedStatement history = c.prepared("DELETE FROM history_batches WHERE run_seq = " + RUN_SEQ_OF
        + " AND namespace = ? AND workflow_id = ? AND run_id = ?");
    bindKey(history, 1, key);
    bindKey(history, 4, key);
    history.executeUpdate();
    PreparedStatement execution = c.prepared(
        "DELETE FROM executions WHERE namespace = ? AND workflow_id = ? AND run_id = ? AND version = ?");
    bindKey(execution, 1, key);
    execution.setLong(4, w.expectedVersion());
    if (execution.executeUpdate() != 1) {
      throw new ConcurrentUpdateException("execution " + key + " is no longer at version " + w.expectedVersion());
    }
    deleteRunRows(c, key, List.of("history_events", "tasks", "timers", "current_executions"));
  }

  /** Deletes the rows of one run from each of {@code tables}. */
  private static void deleteRunRows(Session c, ExecutionKey key, List<String> tables) throws SQLException {
    for (String table : tables) {
      PreparedStatement delete = c.prepared(
          "DELETE FROM " + table + " WHERE namespace = ? AND workflow_id = ? AND run_id = ?");
      bindKey(delete, 1, key);
      delete.executeUpdate();
    }
  }

  static void bindKey(PreparedStatement q, int from, ExecutionKey key) throws SQLException {
    q.setString(from, key.namespace());
    q.setString(from + 1, key.workflowId());
    q.setString(from + 2, key.runId());
  }
}
