package dev.perdura.server.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.perdura.server.Storage;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.TestPostgres;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * A database whose history batches were keyed by the run's text keys is carried over to batches
 * found through the run's number: what was written before still reads, in order, with what is
 * written after, and purging a run still removes all of its history.
 */
class HistoryByRunSeqMigrationTest {
  private static final VisibilityRow OPEN = new VisibilityRow("T", "q", 1, 1, 0, 1, 3, "run", new byte[0], new byte[0]);
  private static final ExecutionKey FIRST = new ExecutionKey("ns", "order-1", "run-a");
  private static final ExecutionKey SECOND = new ExecutionKey("ns", "order-2", "run-b");
  private static final ExecutionKey LATER = new ExecutionKey("ns", "order-3", "run-c");

  @TempDir static Path dir;

  /**
   * A dialect: how to reach a fresh database raw, the migrations it had before, the one under test,
   * how many came after it, and its store.
   */
  record Dialect(String name, String folder, List<String> before, String migration, int after,
      Supplier<Connection> raw, Supplier<Store> store) {
    int total() {
      return before.size() + 1 + after;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> dialects() {
    Path file = dir.resolve("perdura.db");
    Dialect sqlite = new Dialect("SQLite", "sqlite",
        List.of("V1__init.sql", "V2__history_batches.sql", "V3__tasks_and_timers_in_state.sql"),
        "V4__history_by_run_seq.sql", 1, () -> connect("jdbc:sqlite:" + file, null), () -> SqliteStore.open(file));
    Storage.Postgres database = TestPostgres.get().newDatabase("runseqmigration");
    Dialect postgres = new Dialect("PostgreSQL", "postgres",
        List.of("V1__init.sql", "V2__cluster_leases.sql", "V3__history_batches.sql", "V4__tasks_and_timers_in_state.sql"),
        "V5__history_by_run_seq.sql", 1, () -> connect(database.jdbcUrl(), database.user()), () -> PostgresStore.open(database));
    return Stream.of(Arguments.of(sqlite), Arguments.of(postgres));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dialects")
  void batchesWrittenBeforeReadWithThoseAfterAndArePurgedWithTheirRun(Dialect dialect) throws Exception {
    try (Connection raw = dialect.raw().get()) {
      OldSchema.apply(raw, dialect.folder(), dialect.before());
      insertOldRun(raw, FIRST, List.of(events(FIRST, 1, 3), events(FIRST, 4, 5)));
      insertOldRun(raw, SECOND, List.of(events(SECOND, 1, 2)));
    }

    Logger storeLog = (Logger) LoggerFactory.getLogger(JdbcStore.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    storeLog.addAppender(logged);
    try (Store store = dialect.store().get()) {
      store.migrate();
      assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
          .as("the start says why it waits, and what it did")
          .anyMatch(m -> m.contains("at schema version " + dialect.before().size() + " of " + dialect.total() + ": migrating"))
          .anyMatch(m -> m.contains("migration " + dialect.migration() + " applied in"));
      assertThat(ids(store.readEvents(FIRST, 1, 100))).containsExactly(1L, 2L, 3L, 4L, 5L);
      assertThat(ids(store.readEvents(FIRST, 3, 2))).containsExactly(3L, 4L);
      assertThat(store.readEvents(FIRST, 2, 1)).extracting(e -> new String(e.data(), StandardCharsets.UTF_8))
          .containsExactly("order-1/2");
      assertThat(ids(store.readEvents(SECOND, 1, 100))).containsExactly(1L, 2L);

      store.commit(List.of(new ExecutionWrite(new ExecutionRow(FIRST, 2, new byte[] {2}, OPEN), 1, false,
          events(FIRST, 6, 7), false, false)));
      store.commit(List.of(new ExecutionWrite(new ExecutionRow(LATER, 1, new byte[] {1}, OPEN), 0, true,
          events(LATER, 1, 4), false, false)));
      assertThat(ids(store.readEvents(FIRST, 1, 100))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
      assertThat(ids(store.readEvents(FIRST, 5, 100))).containsExactly(5L, 6L, 7L);
      assertThat(store.readEvents(LATER, 1, 100)).extracting(e -> new String(e.data(), StandardCharsets.UTF_8))
          .containsExactly("order-3/1", "order-3/2", "order-3/3", "order-3/4");

      store.commit(List.of(new ExecutionWrite(new ExecutionRow(FIRST, 3, new byte[] {2}, OPEN), 2, false,
          List.of(), false, true)));
      assertThat(store.readEvents(FIRST, 1, 100)).as("purged").isEmpty();
      assertThat(ids(store.readEvents(SECOND, 1, 100))).as("another run's history").containsExactly(1L, 2L);
    } finally {
      storeLog.detachAppender(logged);
    }

    try (Connection raw = dialect.raw().get()) {
      assertThat(count(raw, "SELECT COUNT(*) FROM history_batches WHERE run_id = 'run-a'"))
          .as("batches of the purged run").isZero();
      assertThat(count(raw, "SELECT COUNT(DISTINCT run_seq) FROM executions"))
          .as("each run its own number").isEqualTo(2);
    }
  }

  /** A run as the previous layout stored it: an execution row and batches keyed by its text keys. */
  private static void insertOldRun(Connection raw, ExecutionKey key, List<List<EventRow>> batches) throws SQLException {
    try (PreparedStatement run = raw.prepareStatement("INSERT INTO executions (namespace, workflow_id, run_id,"
        + " version, state, workflow_type, task_queue, status, start_time, close_time, execution_time,"
        + " history_length, first_run_id) VALUES (?, ?, ?, 1, ?, 'T', 'q', 1, 1, 0, 1, 3, ?)")) {
      run.setString(1, key.namespace());
      run.setString(2, key.workflowId());
      run.setString(3, key.runId());
      run.setBytes(4, new byte[] {1});
      run.setString(5, key.runId());
      run.executeUpdate();
    }
    try (PreparedStatement batch = raw.prepareStatement("INSERT INTO history_batches VALUES (?, ?, ?, ?, ?, ?)")) {
      for (List<EventRow> events : batches) {
        batch.setString(1, key.namespace());
        batch.setString(2, key.workflowId());
        batch.setString(3, key.runId());
        batch.setLong(4, events.getFirst().eventId());
        batch.setLong(5, events.getLast().eventId());
        batch.setBytes(6, EventBatches.encode(events));
        batch.executeUpdate();
      }
    }
  }

  private static List<EventRow> events(ExecutionKey key, long from, long to) {
    List<EventRow> events = new ArrayList<>();
    for (long id = from; id <= to; id++) {
      events.add(new EventRow(id, (key.workflowId() + "/" + id).getBytes(StandardCharsets.UTF_8)));
    }
    return events;
  }

  private static List<Long> ids(List<EventRow> events) {
    return events.stream().map(EventRow::eventId).toList();
  }

  private static long count(Connection raw, String sql) throws SQLException {
    try (Statement s = raw.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Connection connect(String url, String user) {
    try {
      return DriverManager.getConnection(url, user, null);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot connect to " + url, e);
    }
  }
}
