package dev.perdura.server.store.postgres;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.jdbc.EventBatches;
import dev.perdura.server.store.jdbc.ExecutionWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A commit sent to PostgreSQL as one statement, one round trip: {@code SELECT perdura_commit(...)}
 * (migration V6), given the lease check and each kind of write (new rows, updates, narrow updates,
 * current-run pointers, history batches) as arrays, one per column. The function locks the leases,
 * then writes row by row in the order a transaction of single statements would, each statement
 * inside planned once per connection; a failed check raises {@link #LEASE_LOST} or {@link
 * #VERSION_MISMATCH} naming the lease or the run, and the statement, autocommitted, lands nothing.
 *
 * <p>Sent instead as one message of several statements, each unnesting its arrays, a commit cost
 * PostgreSQL more than the seven round trips it saved: planned with the arrays' values, the
 * statements were planned again on every commit, and with their plans cached, the backend grew and
 * shrank its heap on every message (docs/performance.md).
 *
 * <p>Not for writes holding a purge or deleting legacy task and timer rows (see {@link #applies}):
 * those go statement by statement ({@link ExecutionWriter}).
 */
final class PostgresCommit {
  /** SQLSTATE raised when a lease of the commit is not held at its version. */
  static final String LEASE_LOST = "PDLSE";
  /** SQLSTATE raised when a new row already existed or an updated one was not at its expected version. */
  static final String VERSION_MISMATCH = "PDVER";

  private static final int PARAMETERS = 54;

  static final String SQL = "SELECT perdura_commit(" + String.join(", ", Collections.nCopies(PARAMETERS, "?")) + ")";

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
   * The commit as one statement on {@code connection}, bound and ready to execute with autocommit
   * on; the caller closes it. The driver keeps the server-side statement per connection, so
   * preparing it again costs nothing.
   *
   * @throws dev.perdura.server.store.ConcurrentUpdateException two writes of one run disagree on its version
   */
  static PreparedStatement prepare(Connection connection, List<Lease> leases, List<ExecutionWrite> writes,
      LongSupplier runSeq) throws SQLException {
    ExecutionWriter.ByKind byKind = ExecutionWriter.ByKind.of(writes);
    PreparedStatement statement = connection.prepareStatement(SQL);
    try {
      // Small methods, one per kind: the JIT compiles them early and once.
      int next = bindLeases(statement, 1, leases);
      next = bindInserts(statement, next, byKind.inserts(), runSeq);
      next = bindUpdates(statement, next, byKind.updates());
      next = bindNarrowUpdates(statement, next, byKind.narrowUpdates());
      next = bindKeys(statement, next, writes.stream().filter(ExecutionWrite::makeCurrent).toList());
      next = bindHistory(statement, next, byKind.withEvents());
      if (next != PARAMETERS + 1) {
        throw new IllegalStateException("bound " + (next - 1) + " parameters of " + PARAMETERS);
      }
      return statement;
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
  }

  /**
   * Sorted by name: the function locks them in the order given, so two commits sharing leases never
   * wait for each other through a renewal queued between them (see {@code PostgresStore.checkFences}).
   */
  private static int bindLeases(PreparedStatement q, int at, List<Lease> unordered) throws SQLException {
    List<Lease> leases = unordered.stream().sorted(Comparator.comparing(Lease::name)).toList();
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
    q.setObject(at, names);
    q.setObject(at + 1, owners);
    q.setObject(at + 2, versions);
    return at + 3;
  }

  /** Columns of the rows written, but their keys. */
  private record Rows(long[] expected, long[] versions, byte[][] states, String[] types, String[] queues, int[] statuses, long[] starts, long[] closes,
      long[] executionTimes, long[] lengths, String[] firstRunIds, byte[][] memos, byte[][] attributes,
      int[] pending) {
    static Rows of(List<ExecutionWrite> writes) {
      int n = writes.size();
      Rows rows = new Rows(new long[n], new long[n], new byte[n][],
          new String[n], new String[n], new int[n], new long[n], new long[n], new long[n], new long[n],
          new String[n], new byte[n][], new byte[n][], new int[n]);
      for (int i = 0; i < n; i++) {
        ExecutionWrite w = writes.get(i);
        ExecutionRow row = w.row();
        VisibilityRow v = row.visibility();
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

  /** The runs' keys as three arrays, from {@code at}. */
  private static int bindKeys(PreparedStatement q, int at, List<ExecutionWrite> writes) throws SQLException {
    int n = writes.size();
    String[] namespaces = new String[n];
    String[] workflowIds = new String[n];
    String[] runIds = new String[n];
    for (int i = 0; i < n; i++) {
      ExecutionKey key = writes.get(i).row().key();
      namespaces[i] = key.namespace();
      workflowIds[i] = key.workflowId();
      runIds[i] = key.runId();
    }
    q.setObject(at, namespaces);
    q.setObject(at + 1, workflowIds);
    q.setObject(at + 2, runIds);
    return at + 3;
  }

  private static int bindInserts(PreparedStatement q, int at, List<ExecutionWrite> inserts, LongSupplier runSeq)
      throws SQLException {
    Rows rows = Rows.of(inserts);
    long[] runSeqs = new long[inserts.size()];
    for (int i = 0; i < runSeqs.length; i++) {
      runSeqs[i] = runSeq.getAsLong();
    }
    int next = bindKeys(q, at, inserts);
    q.setObject(next, rows.versions());
    q.setObject(next + 1, rows.states());
    next = rows.bindVisibility(q, next + 2);
    q.setObject(next, runSeqs);
    return next + 1;
  }

  private static int bindUpdates(PreparedStatement q, int at, List<ExecutionWrite> updates) throws SQLException {
    Rows rows = Rows.of(updates);
    int next = bindKeys(q, at, updates);
    q.setObject(next, rows.expected());
    q.setObject(next + 1, rows.versions());
    q.setObject(next + 2, rows.states());
    return rows.bindVisibility(q, next + 3);
  }

  /** Only the columns a narrow update sets. */
  private static int bindNarrowUpdates(PreparedStatement q, int at, List<ExecutionWrite> updates) throws SQLException {
    Rows rows = Rows.of(updates);
    int next = bindKeys(q, at, updates);
    q.setObject(next, rows.expected());
    q.setObject(next + 1, rows.versions());
    q.setObject(next + 2, rows.states());
    q.setObject(next + 3, rows.statuses());
    q.setObject(next + 4, rows.lengths());
    return next + 5;
  }

  private static int bindHistory(PreparedStatement q, int at, List<ExecutionWrite> withEvents) throws SQLException {
    int n = withEvents.size();
    long[] firsts = new long[n];
    long[] lasts = new long[n];
    byte[][] data = new byte[n][];
    for (int i = 0; i < n; i++) {
      ExecutionWrite w = withEvents.get(i);
      firsts[i] = w.events().getFirst().eventId();
      lasts[i] = w.events().getLast().eventId();
      data[i] = EventBatches.encode(w.events());
    }
    int next = bindKeys(q, at, withEvents);
    q.setObject(next, firsts);
    q.setObject(next + 1, lasts);
    q.setObject(next + 2, data);
    return next + 3;
  }
}
