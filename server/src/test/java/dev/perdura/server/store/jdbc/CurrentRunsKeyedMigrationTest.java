package dev.perdura.server.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SQLite database from before the current-run pointers became one b-tree keyed by workflow id
 * keeps its pointers: they are found, listed in key order, moved to a new run and purged.
 */
class CurrentRunsKeyedMigrationTest {
  private static final List<String> BEFORE = List.of("V1__init.sql", "V2__history_batches.sql",
      "V3__tasks_and_timers_in_state.sql", "V4__history_by_run_seq.sql");
  private static final VisibilityRow OPEN = new VisibilityRow("T", "q", 1, 500, 0, 500, 3, "run", new byte[0], new byte[0]);

  @TempDir Path dir;

  @Test
  void pointersWrittenBeforeAreFoundMovedAndPurged() throws Exception {
    Path file = dir.resolve("perdura.db");
    try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      OldSchema.apply(raw, "sqlite", BEFORE);
      insertOldRun(raw, new ExecutionKey("ns", "order-2", "run-b"));
      insertOldRun(raw, new ExecutionKey("ns", "order-1", "run-a"));
      insertOldRun(raw, new ExecutionKey("other", "order-1", "run-c"));
    }

    try (Store store = SqliteStore.open(file)) {
      store.migrate();
      assertThat(store.findCurrentRunId("ns", "order-1")).contains("run-a");
      assertThat(store.findCurrentRunId("other", "order-1")).contains("run-c");
      assertThat(store.findCurrentRunId("ns", "order-3")).isEmpty();
      assertThat(store.listCurrentRuns("", "", 10)).as("in key order").containsExactly(
          new ExecutionKey("ns", "order-1", "run-a"), new ExecutionKey("ns", "order-2", "run-b"),
          new ExecutionKey("other", "order-1", "run-c"));

      ExecutionKey next = new ExecutionKey("ns", "order-1", "run-d");
      store.commit(List.of(new ExecutionWrite(new ExecutionRow(next, 1, new byte[] {1}, OPEN), 0, true,
          List.of(), false, false)));
      assertThat(store.findCurrentRunId("ns", "order-1")).as("moved to the new run").contains("run-d");
      store.commit(List.of(new ExecutionWrite(new ExecutionRow(next, 2, new byte[] {1}, OPEN), 1, false,
          List.of(), false, true)));
      assertThat(store.findCurrentRunId("ns", "order-1")).as("purged with its run").isEmpty();
      assertThat(store.findCurrentRunId("ns", "order-2")).contains("run-b");
    }

    try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = raw.createStatement();
        ResultSet table = s.executeQuery("SELECT sql FROM sqlite_schema WHERE name = 'current_executions'")) {
      assertThat(table.next()).isTrue();
      assertThat(table.getString(1)).contains("WITHOUT ROWID");
    }
  }

  /** A run as the previous layout stored it, current for its workflow id. */
  private static void insertOldRun(Connection raw, ExecutionKey key) throws SQLException {
    try (PreparedStatement run = raw.prepareStatement("INSERT INTO executions (namespace, workflow_id, run_id,"
        + " version, state, workflow_type, task_queue, status, start_time, close_time, execution_time,"
        + " history_length, first_run_id) VALUES (?, ?, ?, 1, X'01', 'T', 'q', 1, 500, 0, 500, 3, ?)");
        PreparedStatement current = raw.prepareStatement("INSERT INTO current_executions VALUES (?, ?, ?)")) {
      for (PreparedStatement q : List.of(run, current)) {
        q.setString(1, key.namespace());
        q.setString(2, key.workflowId());
        q.setString(3, key.runId());
      }
      run.setString(4, key.runId());
      run.executeUpdate();
      current.executeUpdate();
    }
  }
}
