package dev.perdura.server.store.postgres;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.jdbc.EventBatches;
import dev.perdura.server.store.jdbc.ExecutionWriter;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A commit sent to PostgreSQL as one message: the lease check and one statement per kind of write
 * (new rows, updates, narrow updates, current-run pointers, history batches), each carrying all of
 * its rows as arrays ({@code unnest}), in one prepared multi-statement query with one Sync. Run with
 * autocommit on, the statements form one implicit transaction that commits at the Sync, so a commit
 * is one round trip instead of one per statement kind plus the check and {@code COMMIT}.
 *
 * <p>The checks are inside the message: each statement counts the rows it locked, inserted or
 * updated and passes the count to {@code perdura_require} (migration V6), which raises {@link
 * #LEASE_LOST} or {@link #VERSION_MISMATCH} when it is short; the error aborts the whole
 * transaction. Those codes say only that some lease or some row failed, not which:
 * {@code PostgresStore} then writes the commit again statement by statement, which fails the
 * same way and names it.
 *
 * <p>Not for writes holding a purge or deleting legacy task and timer rows (see
 * {@link #applies}): those go statement by statement ({@link ExecutionWriter}).
 */
final class PostgresCommit {
  /** SQLSTATE raised when a lease of the commit is not held at its version. */
  static final String LEASE_LOST = "PDLSE";
  /** SQLSTATE raised when a new row already existed or an updated one was not at its expected version. */
  static final String VERSION_MISMATCH = "PDVER";

  private static final String LEASES = "SELECT perdura_require(count(*) = ?, '" + LEASE_LOST + "', 'a lease is no longer held')"
      + " FROM (SELECT 1 FROM cluster_leases l"
      + " JOIN unnest(?::text[], ?::text[], ?::bigint[]) AS r (name, owner, version)"
      + " ON l.name = r.name AND l.owner = r.owner AND l.version = r.version"
      // Share locks, taken in name order (see PostgresStore.checkFences).
      + " ORDER BY l.name FOR SHARE OF l) AS held";

  private static final String INSERTS = "WITH w AS (INSERT INTO executions (namespace, workflow_id, run_id, version,"
      + " state, workflow_type, task_queue, status, start_time, close_time, execution_time, history_length,"
      + " first_run_id, memo, search_attributes, pending, run_seq)"
      + " SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bytea[], ?::text[], ?::text[],"
      + " ?::int[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bytea[], ?::bytea[], ?::int[],"
      + " ?::bigint[]) ON CONFLICT DO NOTHING RETURNING 1)"
      + " SELECT perdura_require(count(*) = ?, '" + VERSION_MISMATCH + "', 'an execution already exists') FROM w";

  private static final String UPDATES = "WITH w AS (UPDATE executions e SET version = u.version, state = u.state,"
      + " workflow_type = u.workflow_type, task_queue = u.task_queue, status = u.status, start_time = u.start_time,"
      + " close_time = u.close_time, execution_time = u.execution_time, history_length = u.history_length,"
      + " first_run_id = u.first_run_id, memo = u.memo, search_attributes = u.search_attributes, pending = u.pending"
      + " FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bytea[], ?::text[], ?::text[],"
      + " ?::int[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bytea[], ?::bytea[], ?::int[])"
      + " AS u (namespace, workflow_id, run_id, expected, version, state, workflow_type, task_queue, status,"
      + " start_time, close_time, execution_time, history_length, first_run_id, memo, search_attributes, pending)"
      + " WHERE e.namespace = u.namespace AND e.workflow_id = u.workflow_id AND e.run_id = u.run_id"
      + " AND e.version = u.expected RETURNING 1)"
      + " SELECT perdura_require(count(*) = ?, '" + VERSION_MISMATCH + "', 'an execution moved past its version') FROM w";

  /** Leaves the other columns, and the indexes over them, untouched. */
  private static final String NARROW_UPDATES = "WITH w AS (UPDATE executions e SET version = u.version,"
      + " state = u.state, status = u.status, history_length = u.history_length"
      + " FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bytea[], ?::int[], ?::bigint[])"
      + " AS u (namespace, workflow_id, run_id, expected, version, state, status, history_length)"
      + " WHERE e.namespace = u.namespace AND e.workflow_id = u.workflow_id AND e.run_id = u.run_id"
      + " AND e.version = u.expected RETURNING 1)"
      + " SELECT perdura_require(count(*) = ?, '" + VERSION_MISMATCH + "', 'an execution moved past its version') FROM w";

  private static final String MAKE_CURRENT = "INSERT INTO current_executions"
      + " SELECT * FROM unnest(?::text[], ?::text[], ?::text[])"
      + " ON CONFLICT (namespace, workflow_id) DO UPDATE SET run_id = excluded.run_id";

  private static final String HISTORY = "INSERT INTO history_batches"
      + " (namespace, workflow_id, run_id, first_event_id, last_event_id, data, run_seq)"
      + " SELECT u.*, (SELECT e.run_seq FROM executions e"
      + " WHERE e.namespace = u.namespace AND e.workflow_id = u.workflow_id AND e.run_id = u.run_id)"
      + " FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bytea[])"
      + " AS u (namespace, workflow_id, run_id, first_event_id, last_event_id, data)";

  /** The whole commit, one text: the driver prepares it once per connection and sends it with one Sync. */
  static final String SQL = String.join(";\n", LEASES, INSERTS, UPDATES, NARROW_UPDATES, MAKE_CURRENT, HISTORY);

  private PostgresCommit() {}

  /** Whether {@code writes} can be sent this way: none purges a run or deletes its legacy rows. */
  static boolean applies(List<ExecutionWrite> writes) {
    for (ExecutionWrite w : writes) {
      if (w.purge() || w.deleteLegacyRows()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Binds the commit to {@code statement} (prepared from {@link #SQL}); the caller executes it with
   * autocommit on.
   *
   * @throws dev.perdura.server.store.ConcurrentUpdateException two writes of one run disagree on its version
   */
  static void bind(PreparedStatement statement, List<Lease> leases, List<ExecutionWrite> writes, LongSupplier runSeq)
      throws SQLException {
    List<ExecutionWrite> merged = ExecutionWriter.mergeByRun(writes);
    List<ExecutionWrite> inserts = new ArrayList<>();
    List<ExecutionWrite> updates = new ArrayList<>();
    List<ExecutionWrite> narrowUpdates = new ArrayList<>();
    List<ExecutionWrite> withEvents = new ArrayList<>();
    for (ExecutionWrite w : merged) {
      if (w.expectedVersion() == 0) {
        inserts.add(w);
      } else if (w.stateOnly()) {
        narrowUpdates.add(w);
      } else {
        updates.add(w);
      }
      if (!w.events().isEmpty()) {
        withEvents.add(w);
      }
    }
    // Small methods, one per statement: the JIT compiles them early and once.
    int next = bindLeases(statement, 1, leases);
    next = bindInserts(statement, next, inserts, runSeq);
    next = bindUpdates(statement, next, updates);
    next = bindNarrowUpdates(statement, next, narrowUpdates);
    next = bindCurrent(statement, next, writes);
    bindHistory(statement, next, withEvents);
  }

  private static int bindLeases(PreparedStatement q, int at, List<Lease> leases) throws SQLException {
    int n = leases.size();
    String[] names = new String[n];
    String[] owners = new String[n];
    long[] versions = new long[n];
    for (int i = 0; i < n; i++) {
      Lease lease = leases.get(i);
      names[i] = lease.name();
      owners[i] = lease.owner();
      versions[i] = lease.version();
    }
    q.setLong(at, n);
    q.setObject(at + 1, names);
    q.setObject(at + 2, owners);
    q.setObject(at + 3, versions);
    return at + 4;
  }

  /** Columns every full row has, new or updated. */
  private record Rows(String[] namespaces, String[] workflowIds, String[] runIds, long[] expected, long[] versions,
      byte[][] states, String[] types, String[] queues, int[] statuses, long[] starts, long[] closes,
      long[] executionTimes, long[] lengths, String[] firstRunIds, byte[][] memos, byte[][] attributes,
      int[] pending) {
    static Rows of(List<ExecutionWrite> writes) {
      int n = writes.size();
      Rows rows = new Rows(new String[n], new String[n], new String[n], new long[n], new long[n], new byte[n][],
          new String[n], new String[n], new int[n], new long[n], new long[n], new long[n], new long[n],
          new String[n], new byte[n][], new byte[n][], new int[n]);
      for (int i = 0; i < n; i++) {
        ExecutionWrite w = writes.get(i);
        ExecutionRow row = w.row();
        VisibilityRow v = row.visibility();
        rows.namespaces[i] = row.key().namespace();
        rows.workflowIds[i] = row.key().workflowId();
        rows.runIds[i] = row.key().runId();
        rows.expected[i] = w.expectedVersion();
        rows.versions[i] = row.version();
        rows.states[i] = row.state();
        rows.types[i] = v.workflowType();
        rows.queues[i] = v.taskQueue();
        rows.statuses[i] = v.status();
        rows.starts[i] = v.startTimeMillis();
        rows.closes[i] = v.closeTimeMillis();
        rows.executionTimes[i] = v.executionTimeMillis();
        rows.lengths[i] = v.historyLength();
        rows.firstRunIds[i] = v.firstRunId();
        rows.memos[i] = v.memo();
        rows.attributes[i] = v.searchAttributes();
        rows.pending[i] = w.pending() ? 1 : 0;
      }
      return rows;
    }

    /** The visibility columns and {@code pending}, in the statements' order, from {@code at}. */
    int bindVisibility(PreparedStatement q, int at) throws SQLException {
      q.setObject(at, types);
      q.setObject(at + 1, queues);
      q.setObject(at + 2, statuses);
      q.setObject(at + 3, starts);
      q.setObject(at + 4, closes);
      q.setObject(at + 5, executionTimes);
      q.setObject(at + 6, lengths);
      q.setObject(at + 7, firstRunIds);
      q.setObject(at + 8, memos);
      q.setObject(at + 9, attributes);
      q.setObject(at + 10, pending);
      return at + 11;
    }
  }

  private static int bindKeys(PreparedStatement q, int at, Rows rows) throws SQLException {
    q.setObject(at, rows.namespaces());
    q.setObject(at + 1, rows.workflowIds());
    q.setObject(at + 2, rows.runIds());
    return at + 3;
  }

  private static int bindInserts(PreparedStatement q, int at, List<ExecutionWrite> inserts, LongSupplier runSeq)
      throws SQLException {
    Rows rows = Rows.of(inserts);
    long[] runSeqs = new long[inserts.size()];
    for (int i = 0; i < runSeqs.length; i++) {
      runSeqs[i] = runSeq.getAsLong();
    }
    int next = bindKeys(q, at, rows);
    q.setObject(next, rows.versions());
    q.setObject(next + 1, rows.states());
    next = rows.bindVisibility(q, next + 2);
    q.setObject(next, runSeqs);
    q.setLong(next + 1, inserts.size());
    return next + 2;
  }

  private static int bindUpdates(PreparedStatement q, int at, List<ExecutionWrite> updates) throws SQLException {
    Rows rows = Rows.of(updates);
    int next = bindKeys(q, at, rows);
    q.setObject(next, rows.expected());
    q.setObject(next + 1, rows.versions());
    q.setObject(next + 2, rows.states());
    next = rows.bindVisibility(q, next + 3);
    q.setLong(next, updates.size());
    return next + 1;
  }

  private static int bindNarrowUpdates(PreparedStatement q, int at, List<ExecutionWrite> updates) throws SQLException {
    int n = updates.size();
    String[] namespaces = new String[n];
    String[] workflowIds = new String[n];
    String[] runIds = new String[n];
    long[] expected = new long[n];
    long[] versions = new long[n];
    byte[][] states = new byte[n][];
    int[] statuses = new int[n];
    long[] lengths = new long[n];
    for (int i = 0; i < n; i++) {
      ExecutionWrite w = updates.get(i);
      ExecutionRow row = w.row();
      namespaces[i] = row.key().namespace();
      workflowIds[i] = row.key().workflowId();
      runIds[i] = row.key().runId();
      expected[i] = w.expectedVersion();
      versions[i] = row.version();
      states[i] = row.state();
      statuses[i] = row.visibility().status();
      lengths[i] = row.visibility().historyLength();
    }
    Object[] columns = {namespaces, workflowIds, runIds, expected, versions, states, statuses, lengths};
    for (int i = 0; i < columns.length; i++) {
      q.setObject(at + i, columns[i]);
    }
    q.setLong(at + columns.length, n);
    return at + columns.length + 1;
  }

  /**
   * One pointer per workflow id, the last write's: one statement cannot set a row twice, and the
   * later run is where statement-by-statement writing would leave it.
   */
  private static int bindCurrent(PreparedStatement q, int at, List<ExecutionWrite> writes) throws SQLException {
    Map<String, ExecutionKey> byWorkflow = new LinkedHashMap<>();
    for (ExecutionWrite w : writes) {
      if (w.makeCurrent()) {
        ExecutionKey key = w.row().key();
        byWorkflow.put(key.namespace() + '\u0000' + key.workflowId(), key);
      }
    }
    int n = byWorkflow.size();
    String[] namespaces = new String[n];
    String[] workflowIds = new String[n];
    String[] runIds = new String[n];
    int i = 0;
    for (ExecutionKey key : byWorkflow.values()) {
      namespaces[i] = key.namespace();
      workflowIds[i] = key.workflowId();
      runIds[i] = key.runId();
      i++;
    }
    q.setObject(at, namespaces);
    q.setObject(at + 1, workflowIds);
    q.setObject(at + 2, runIds);
    return at + 3;
  }

  private static void bindHistory(PreparedStatement q, int at, List<ExecutionWrite> withEvents) throws SQLException {
    int n = withEvents.size();
    String[] namespaces = new String[n];
    String[] workflowIds = new String[n];
    String[] runIds = new String[n];
    long[] firsts = new long[n];
    long[] lasts = new long[n];
    byte[][] data = new byte[n][];
    for (int i = 0; i < n; i++) {
      ExecutionWrite w = withEvents.get(i);
      ExecutionKey key = w.row().key();
      namespaces[i] = key.namespace();
      workflowIds[i] = key.workflowId();
      runIds[i] = key.runId();
      firsts[i] = w.events().getFirst().eventId();
      lasts[i] = w.events().getLast().eventId();
      data[i] = EventBatches.encode(w.events());
    }
    Object[] columns = {namespaces, workflowIds, runIds, firsts, lasts, data};
    for (int i = 0; i < columns.length; i++) {
      q.setObject(at + i, columns[i]);
    }
  }
}
