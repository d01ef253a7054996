package dev.perdura.server.store.jdbc;

import static dev.perdura.server.store.jdbc.ExecutionWriter.bindKey;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.perdura.server.store.ConcurrentUpdateException;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.NamespaceRecord;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import dev.perdura.server.store.VisibilityFilter;
import dev.perdura.server.store.VisibilityRow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's SQL, shared by the SQLite and PostgreSQL stores: both speak the same statements
 * (upserts with {@code ON CONFLICT}, {@code LIMIT/OFFSET}), so only connection handling, column
 * types in the migrations ({@code db/<dialect>/}) and schema locking differ.
 *
 * <p>Every change of executions is one transaction that checks each row's expected version, so a
 * writer that lost its row to another one fails with {@link ConcurrentUpdateException} and
 * nothing of its batch lands.
 */
public abstract class JdbcStore implements Store {
  private static final Logger log = LoggerFactory.getLogger(JdbcStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EXECUTION_COLUMNS = ExecutionWriter.EXECUTION_COLUMNS;

  private static final String FIND_EXECUTION = "SELECT " + EXECUTION_COLUMNS
      + " FROM executions WHERE namespace = ? AND workflow_id = ? AND run_id = ?";

  /** A run's number (see {@link #nextRunSeq}), for statements over its history batches. */
  private static final String RUN_SEQ_OF = ExecutionWriter.RUN_SEQ_OF;

  private final AtomicLong lastRunSeq = new AtomicLong();
  private final CommitGroup commitGroup;

  /** A store whose fenced commits are written by at most {@code commitWriters} transactions at once. */
  protected JdbcStore(int commitWriters) {
    this.commitGroup = new CommitGroup(commitWriters, this::commitTogether);
  }

  /** What a read or a write does with its session. */
  protected interface Body<T> {
    T run(Session c) throws SQLException;
  }

  /** Runs a read on a connection of its own; SQL errors become {@link StoreException}. */
  protected abstract <T> T read(String what, Body<T> body);

  /** Runs {@code body} in one transaction: committed when it returns, rolled back when it throws. */
  protected abstract <T> T write(String what, Body<T> body);

  /** A read for the thread that commits (see {@link Store#findExecutionToWrite}); by default, any read. */
  protected <T> T readToWrite(String what, Body<T> body) {
    return read(what, body);
  }

  /** The folder of this store's migrations under {@code db/}. */
  protected abstract String dialect();

  /**
   * Called first in every migration transaction, so that servers starting together on one
   * database migrate one after the other.
   */
  protected void lockSchema(Session c) throws SQLException {}

  /**
   * Called first in a fenced commit's transaction: fails it, with {@link
   * dev.perdura.server.store.LeaseLostException}, when any of {@code leases} is no longer held at
   * its version. Only stores shared by several servers have leases.
   */
  protected void checkFences(Session c, List<Lease> leases) throws SQLException {
    throw new UnsupportedOperationException("leases need a store shared by several servers (PostgreSQL)");
  }

  /** Runs {@code body} as one transaction on the session's connection. */
  protected static <T> T inTransaction(Session session, Body<T> body) throws SQLException {
    java.sql.Connection c = session.connection();
    c.setAutoCommit(false);
    try {
      T result = body.run(session);
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException rollback) {
        e.addSuppressed(rollback);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  // ---- schema -------------------------------------------------------------------------------

  /** This dialect's migrations under {@code db/<dialect>/}, in order; each runs once, in its own transaction. */
  protected List<String> migrations() {
    return List.of("V1__init.sql", "V2__history_batches.sql", "V3__tasks_and_timers_in_state.sql",
        "V4__history_by_run_seq.sql", "V5__current_runs_keyed.sql");
  }

  @Override
  public void migrate() {
    write("create the schema version table", c -> {
      lockSchema(c);
      try (Statement s = c.connection().createStatement()) {
        s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
      }
      return null;
    });
    List<String> migrations = migrations();
    long current = read("read the schema version", c -> {
      try (Statement s = c.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
        rs.next();
        return rs.getLong(1);
      }
    });
    if (current < migrations.size()) {
      // A migration may rewrite a large table (minutes for gigabytes): say why the start waits.
      log.info("{} store at schema version {} of {}: migrating", dialect(), current, migrations.size());
    }
    for (int i = 0; i < migrations.size(); i++) {
      int version = i + 1;
      String name = migrations.get(i);
      long startNanos = System.nanoTime();
      boolean applied = write("apply migration " + name, c -> {
        lockSchema(c);
        try (PreparedStatement q = c.connection().prepareStatement("SELECT 1 FROM schema_version WHERE version = ?")) {
          q.setInt(1, version);
          try (ResultSet rs = q.executeQuery()) {
            if (rs.next()) {
              return false;
            }
          }
        }
        try (Statement s = c.connection().createStatement()) {
          for (String statement : statements(migrationText(name))) {
            s.execute(statement);
          }
        }
        try (PreparedStatement insert = c.connection().prepareStatement("INSERT INTO schema_version VALUES (?, ?, ?)")) {
          insert.setInt(1, version);
          insert.setString(2, name);
          insert.setLong(3, System.currentTimeMillis());
          insert.executeUpdate();
        }
        return true;
      });
      if (applied) {
        log.info("{} store: migration {} applied in {} ms", dialect(), name,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
      }
    }
  }

  /**
   * A migration's statements: split at semicolons, except inside a dollar-quoted body (a
   * PostgreSQL function's), which runs as one statement with its own, and in {@code --} comments.
   */
  static List<String> statements(String migration) {
    List<String> statements = new ArrayList<>();
    boolean inBody = false;
    int start = 0;
    for (int i = 0; i < migration.length(); i++) {
      if (migration.startsWith("$$", i)) {
        inBody = !inBody;
        i++;
      } else if (!inBody && migration.startsWith("--", i)) {
        int end = migration.indexOf('\n', i);
        i = end < 0 ? migration.length() : end;
      } else if (migration.charAt(i) == ';' && !inBody) {
        statements.add(migration.substring(start, i));
        start = i + 1;
      }
    }
    statements.add(migration.substring(start));
    return statements.stream().filter(statement -> !statement.isBlank()).toList();
  }

  private String migrationText(String name) {
    try (InputStream in = JdbcStore.class.getResourceAsStream("/db/" + dialect() + "/" + name)) {
      if (in == null) {
        throw new StoreException("migration " + name + " is missing from the classpath", null);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new StoreException("cannot read migration " + name, e);
    }
  }

  // ---- namespaces ---------------------------------------------------------------------------

  private static NamespaceRecord namespace(ResultSet rs) throws SQLException {
    Map<String, String> data;
    try {
      data = JSON.readValue(rs.getString("data"), new TypeReference<Map<String, String>>() {});
    } catch (IOException e) {
      throw new SQLException("namespace data is unreadable", e);
    }
    return new NamespaceRecord(rs.getString("name"), rs.getString("id"), rs.getString("description"),
        rs.getString("owner_email"), rs.getLong("retention_seconds"), data, rs.getLong("created_at"));
  }

  @Override
  public Optional<NamespaceRecord> findNamespace(String name) {
    return read("read namespace " + name, c -> {
      try (PreparedStatement q = c.connection().prepareStatement("SELECT * FROM namespaces WHERE name = ?")) {
        q.setString(1, name);
        try (ResultSet rs = q.executeQuery()) {
          return rs.next() ? Optional.of(namespace(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<NamespaceRecord> listNamespaces() {
    return read("list namespaces", c -> {
      List<NamespaceRecord> all = new ArrayList<>();
      try (Statement s = c.connection().createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM namespaces ORDER BY name")) {
        while (rs.next()) {
          all.add(namespace(rs));
        }
      }
      return all;
    });
  }

  @Override
  public boolean insertNamespace(NamespaceRecord ns) {
    return write("register namespace " + ns.name(), c -> {
      try (PreparedStatement q = c.connection().prepareStatement(
          "INSERT INTO namespaces VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
        q.setString(1, ns.name());
        q.setString(2, ns.id());
        q.setString(3, ns.description());
        q.setString(4, ns.ownerEmail());
        q.setLong(5, ns.retentionSeconds());
        try {
          q.setString(6, JSON.writeValueAsString(ns.data()));
        } catch (IOException e) {
          throw new SQLException("namespace data cannot be written", e);
        }
        q.setLong(7, ns.createdAtMillis());
        return q.executeUpdate() == 1;
      }
    });
  }

  // ---- executions and history ---------------------------------------------------------------

  @Override
  public Optional<String> findCurrentRunId(String namespace, String workflowId) {
    return read("find the current run of " + workflowId, c -> currentRunId(c, namespace, workflowId));
  }

  @Override
  public Optional<String> findCurrentRunIdToWrite(String namespace, String workflowId) {
    return readToWrite("find the current run of " + workflowId, c -> currentRunId(c, namespace, workflowId));
  }

  @Override
  public List<ExecutionKey> listCurrentRuns(String afterNamespace, String afterWorkflowId, int limit) {
    return read("list current runs", c -> {
      PreparedStatement q = c.prepared("SELECT namespace, workflow_id, run_id FROM current_executions"
          + " WHERE namespace > ? OR (namespace = ? AND workflow_id > ?)"
          + " ORDER BY namespace, workflow_id LIMIT ?");
      q.setString(1, afterNamespace);
      q.setString(2, afterNamespace);
      q.setString(3, afterWorkflowId);
      q.setInt(4, limit);
      List<ExecutionKey> runs = new ArrayList<>();
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          runs.add(new ExecutionKey(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
      return runs;
    });
  }

  private static Optional<String> currentRunId(Session c, String namespace, String workflowId) throws SQLException {
    PreparedStatement q = c.prepared("SELECT run_id FROM current_executions WHERE namespace = ? AND workflow_id = ?");
    q.setString(1, namespace);
    q.setString(2, workflowId);
    try (ResultSet rs = q.executeQuery()) {
      return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
    }
  }

  private static ExecutionRow execution(ResultSet rs) throws SQLException {
    ExecutionKey key = new ExecutionKey(rs.getString("namespace"), rs.getString("workflow_id"), rs.getString("run_id"));
    VisibilityRow visibility = new VisibilityRow(rs.getString("workflow_type"), rs.getString("task_queue"),
        rs.getInt("status"), rs.getLong("start_time"), rs.getLong("close_time"), rs.getLong("execution_time"),
        rs.getLong("history_length"), rs.getString("first_run_id"), rs.getBytes("memo"), rs.getBytes("search_attributes"));
    return new ExecutionRow(key, rs.getLong("version"), rs.getBytes("state"), visibility);
  }

  @Override
  public Optional<ExecutionRow> findExecution(ExecutionKey key) {
    return read("read execution " + key, c -> execution(c, key));
  }

  @Override
  public Optional<ExecutionRow> findExecutionToWrite(ExecutionKey key) {
    return readToWrite("read execution " + key, c -> execution(c, key));
  }

  private static Optional<ExecutionRow> execution(Session c, ExecutionKey key) throws SQLException {
    PreparedStatement q = c.prepared(FIND_EXECUTION);
    bindKey(q, 1, key);
    try (ResultSet rs = q.executeQuery()) {
      return rs.next() ? Optional.of(execution(rs)) : Optional.empty();
    }
  }

  @Override
  public List<EventRow> readEvents(ExecutionKey key, long fromEventId, int maxEvents) {
    return read("read history of " + key, c -> {
      List<EventRow> events = new ArrayList<>();
      long upTo = fromEventId + maxEvents;
      // The batch holding fromEventId and those after it, up to the last event wanted; and, from
      // databases written before batches, rows of one event each (last_event_id -1 marks them).
      PreparedStatement q = c.prepared("SELECT first_event_id, last_event_id, data FROM history_batches"
          + " WHERE run_seq = " + RUN_SEQ_OF + " AND namespace = ? AND workflow_id = ? AND run_id = ?"
          + " AND first_event_id < ? AND first_event_id >= COALESCE((SELECT MAX(first_event_id) FROM history_batches"
          + " WHERE run_seq = " + RUN_SEQ_OF + " AND namespace = ? AND workflow_id = ? AND run_id = ?"
          + " AND first_event_id <= ?), 0)"
          + " UNION ALL SELECT event_id, -1, data FROM history_events"
          + " WHERE namespace = ? AND workflow_id = ? AND run_id = ? AND event_id >= ? AND event_id < ?"
          + " ORDER BY 1");
      bindKey(q, 1, key);
      bindKey(q, 4, key);
      q.setLong(7, upTo);
      bindKey(q, 8, key);
      bindKey(q, 11, key);
      q.setLong(14, fromEventId);
      bindKey(q, 15, key);
      q.setLong(18, fromEventId);
      q.setLong(19, upTo);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next() && events.size() < maxEvents) {
          long first = rs.getLong(1);
          List<EventRow> rows = rs.getLong(2) < 0
              ? List.of(new EventRow(first, rs.getBytes(3)))
              : EventBatches.decode(first, rs.getBytes(3));
          for (EventRow row : rows) {
            if (row.eventId() >= fromEventId && events.size() < maxEvents) {
              events.add(row);
            }
          }
        }
      }
      return events;
    });
  }

  @Override
  public void commit(List<ExecutionWrite> writes) {
    if (writes.isEmpty()) {
      return;
    }
    writeCommit(List.of(), writes);
  }

  /**
   * Written together with the fenced commits of this store's other shards that arrive meanwhile
   * ({@link CommitGroup}): one transaction, one check of all their leases.
   */
  @Override
  public void commit(List<ExecutionWrite> writes, Lease lease) {
    java.util.Objects.requireNonNull(lease, "lease");
    if (writes.isEmpty()) {
      return;
    }
    commitGroup.commit(writes, lease);
  }

  /** Fenced commits written so far (by several shards of this server, or by one). */
  public long fencedCommits() {
    return commitGroup.commits();
  }

  /** Transactions that wrote the {@linkplain #fencedCommits fenced commits}: fewer when they were grouped. */
  public long fencedTransactions() {
    return commitGroup.transactions();
  }

  /** One transaction for the fenced commits of a group; all of them land or none does. */
  private void commitTogether(List<CommitGroup.Pending> group) {
    List<ExecutionWrite> writes = group.size() == 1 ? group.getFirst().writes() : new ArrayList<>();
    List<Lease> leases = new ArrayList<>(group.size());
    for (CommitGroup.Pending pending : group) {
      if (group.size() > 1) {
        writes.addAll(pending.writes());
      }
      if (!leases.contains(pending.lease())) {
        leases.add(pending.lease());
      }
    }
    writeCommit(leases, writes);
  }

  /**
   * Writes one transaction: the lease check (when {@code leases} is not empty, see {@link
   * #checkFences}), then the writes' statements ({@link ExecutionWriter}). A store that can send
   * all of it as one statement overrides this (PostgreSQL).
   *
   * @throws ConcurrentUpdateException a write's expected version did not match; nothing applied
   * @throws dev.perdura.server.store.LeaseLostException a lease moved on; nothing applied
   */
  protected void writeCommit(List<Lease> leases, List<ExecutionWrite> writes) {
    String what = leases.isEmpty() ? "commit " + writes.size() + " changes"
        : "commit " + writes.size() + " changes of " + leases.size() + " shards";
    write(what, c -> {
      if (!leases.isEmpty()) {
        checkFences(c, leases);
      }
      ExecutionWriter.write(c, writes, this::nextRunSeq);
      return null;
    });
  }

  /**
   * A new run's number: its history batches are indexed by it, so runs started together keep their
   * batches together in the index and a commit dirties few of its pages. Rising with the clock
   * (1024 numbers per millisecond, then past it), not repeated while this store is open; another
   * store (another server on the same database, or this one after its clock went back) may give the
   * same number, rarely, and reads tell such runs apart by their keys.
   */
  protected final long nextRunSeq() {
    long now = System.currentTimeMillis() << 10;
    return lastRunSeq.accumulateAndGet(now, (last, clock) -> Math.max(last + 1, clock));
  }

  @Override
  public List<ExecutionKey> findClosedBefore(String namespace, long closedBeforeMillis, int limit) {
    return read("find closed executions of " + namespace, c -> {
      PreparedStatement q = c.prepared("SELECT workflow_id, run_id FROM executions"
          + " WHERE namespace = ? AND close_time > 0 AND close_time < ? ORDER BY close_time LIMIT ?");
      q.setString(1, namespace);
      q.setLong(2, closedBeforeMillis);
      q.setInt(3, limit);
      List<ExecutionKey> keys = new ArrayList<>();
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          keys.add(new ExecutionKey(namespace, rs.getString(1), rs.getString(2)));
        }
      }
      return keys;
    });
  }

  @Override
  public List<ExecutionRow> loadPending() {
    return read("load runs with tasks or timers", c -> {
      List<ExecutionRow> rows = new ArrayList<>();
      try (Statement s = c.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT " + EXECUTION_COLUMNS + " FROM executions WHERE pending = 1")) {
        while (rs.next()) {
          rows.add(execution(rs));
        }
      }
      return rows;
    });
  }

  @Override
  public List<TaskRow> loadLegacyTasks() {
    return read("load old-format task rows", c -> {
      List<TaskRow> tasks = new ArrayList<>();
      try (Statement s = c.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT * FROM tasks ORDER BY created_at")) {
        while (rs.next()) {
          tasks.add(new TaskRow(
              new ExecutionKey(rs.getString("namespace"), rs.getString("workflow_id"), rs.getString("run_id")),
              TaskKind.valueOf(rs.getString("kind")), rs.getString("task_queue"), rs.getLong("scheduled_event_id"),
              rs.getInt("attempt"), rs.getInt("priority_key"), rs.getString("fairness_key"),
              rs.getFloat("fairness_weight"), rs.getLong("created_at")));
        }
      }
      return tasks;
    });
  }

  @Override
  public List<TimerRow> loadLegacyTimers() {
    return read("load old-format timer rows", c -> {
      List<TimerRow> timers = new ArrayList<>();
      try (Statement s = c.connection().createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM timers")) {
        while (rs.next()) {
          timers.add(new TimerRow(
              new ExecutionKey(rs.getString("namespace"), rs.getString("workflow_id"), rs.getString("run_id")),
              rs.getString("timer_key"), rs.getLong("fire_at")));
        }
      }
      return timers;
    });
  }

  // ---- visibility ---------------------------------------------------------------------------

  private static void bindParams(PreparedStatement q, int from, List<Object> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      q.setObject(from + i, params.get(i));
    }
  }

  @Override
  public List<ExecutionRow> listExecutions(String namespace, VisibilityFilter filter, int offset, int limit) {
    return read("list executions", c -> {
      List<ExecutionRow> rows = new ArrayList<>();
      try (PreparedStatement q = c.connection().prepareStatement("SELECT " + EXECUTION_COLUMNS + " FROM executions WHERE namespace = ? AND ("
          + filter.where() + ") ORDER BY " + filter.orderBy() + " LIMIT ? OFFSET ?")) {
        q.setString(1, namespace);
        bindParams(q, 2, filter.params());
        q.setInt(2 + filter.params().size(), limit);
        q.setInt(3 + filter.params().size(), offset);
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            rows.add(execution(rs));
          }
        }
      }
      return rows;
    });
  }

  @Override
  public long countExecutions(String namespace, VisibilityFilter filter) {
    return read("count executions", c -> {
      try (PreparedStatement q = c.connection().prepareStatement(
          "SELECT COUNT(*) FROM executions WHERE namespace = ? AND (" + filter.where() + ")")) {
        q.setString(1, namespace);
        bindParams(q, 2, filter.params());
        try (ResultSet rs = q.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

}
