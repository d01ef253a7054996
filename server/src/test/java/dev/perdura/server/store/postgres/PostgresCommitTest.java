package dev.perdura.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.Storage;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.TestPostgres;
import dev.perdura.server.store.VisibilityRow;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The commit sent as one statement, run on its own against PostgreSQL: what it writes, and that a
 * failed check inside it names the run or lease and lands nothing of the commit.
 */
class PostgresCommitTest {
  private Storage.Postgres database;
  private PostgresStore store;
  private Connection connection;
  private final AtomicLong runSeq = new AtomicLong(1_000);

  @BeforeEach
  void open() throws SQLException {
    database = TestPostgres.get().newDatabase("onemessage");
    store = PostgresStore.open(database);
    store.migrate();
    connection = DriverManager.getConnection(database.jdbcUrl(), database.user(), null);
  }

  @AfterEach
  void close() throws SQLException {
    connection.close();
    store.close();
  }

  private static ExecutionRow row(ExecutionKey key, long version, String state, int status) {
    return new ExecutionRow(key, version, state.getBytes(),
        new VisibilityRow("Order", "orders", status, 1_000, 0, 1_000, version, key.runId(), null, new byte[] {3}));
  }

  private static List<EventRow> events(long from, long to) {
    return java.util.stream.LongStream.rangeClosed(from, to).mapToObj(id -> new EventRow(id, ("e" + id).getBytes())).toList();
  }

  private static ExecutionWrite create(ExecutionKey key) {
    return new ExecutionWrite(row(key, 1, "s1", 1), 0, true, events(1, 2), true, false);
  }

  private void send(List<Lease> leases, List<ExecutionWrite> writes) throws SQLException {
    try (PreparedStatement statement = PostgresCommit.prepare(connection, leases, writes, runSeq::incrementAndGet)) {
      statement.execute();
    }
  }

  @Test
  void everyKindOfWriteLandsFromOneStatement() throws SQLException {
    Lease lease = store.tryAcquireLease("shard-1", "node-a", "a:1", 60_000).orElseThrow();
    ExecutionKey a = new ExecutionKey("ns", "order-1", "run-a");
    ExecutionKey b = new ExecutionKey("ns", "order-2", "run-b");
    ExecutionKey c = new ExecutionKey("ns", "order-3", "run-c");
    store.commit(List.of(create(a), create(c)));

    ExecutionKey a2 = new ExecutionKey("ns", "order-1", "run-a2");
    ExecutionWrite fullUpdate = new ExecutionWrite(row(a, 2, "s2", 2), 1, false, events(3, 3), false, false);
    ExecutionWrite narrow = new ExecutionWrite(row(a, 3, "s3", 2), 2, false, events(4, 5), false, false, false, true);
    ExecutionWrite newRun = create(b);
    ExecutionWrite nextRun = create(a2);
    ExecutionWrite narrowAlone = new ExecutionWrite(row(c, 2, "c2", 3), 1, false, events(3, 3), true, false, false, true);
    send(List.of(lease), List.of(fullUpdate, newRun, narrow, nextRun, narrowAlone));

    ExecutionRow stored = store.findExecution(a).orElseThrow();
    assertThat(stored.version()).as("two writes of one run end at the later").isEqualTo(3);
    assertThat(new String(stored.state())).isEqualTo("s3");
    assertThat(stored.visibility().status()).isEqualTo(2);
    assertThat(store.readEvents(a, 1, 10)).extracting(EventRow::eventId).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(store.findExecution(b).orElseThrow().visibility().memo()).isNull();
    assertThat(store.readEvents(b, 1, 10)).extracting(e -> new String(e.data())).containsExactly("e1", "e2");
    assertThat(store.findCurrentRunId("ns", "order-1")).contains("run-a2");
    assertThat(store.findCurrentRunId("ns", "order-2")).contains("run-b");
    ExecutionRow narrowed = store.findExecution(c).orElseThrow();
    assertThat(narrowed.version()).isEqualTo(2);
    assertThat(new String(narrowed.state())).isEqualTo("c2");
    assertThat(narrowed.visibility().status()).isEqualTo(3);
    assertThat(store.readEvents(c, 1, 10)).extracting(EventRow::eventId).containsExactly(1L, 2L, 3L);
    assertThat(store.loadPending()).extracting(ExecutionRow::key).containsExactlyInAnyOrder(b, a2, c);
  }

  @Test
  void aWriteAtAStaleVersionLandsNothingOfTheCommit() {
    ExecutionKey a = new ExecutionKey("ns", "order-1", "run-a");
    ExecutionKey b = new ExecutionKey("ns", "order-2", "run-b");
    store.commit(List.of(create(a)));

    ExecutionWrite stale = new ExecutionWrite(row(a, 6, "lost", 1), 5, false, events(3, 3), false, false);
    assertThatThrownBy(() -> send(List.of(), List.of(create(b), stale)))
        .isInstanceOfSatisfying(SQLException.class,
            e -> assertThat(e.getSQLState()).isEqualTo(PostgresCommit.VERSION_MISMATCH))
        .hasMessageContaining("ns/order-1/run-a is no longer at version 5");
    assertThatThrownBy(() -> send(List.of(), List.of(create(b), create(a))))
        .as("a new run that exists already")
        .isInstanceOfSatisfying(SQLException.class,
            e -> assertThat(e.getSQLState()).isEqualTo(PostgresCommit.VERSION_MISMATCH))
        .hasMessageContaining("ns/order-1/run-a already exists");

    assertThat(store.findExecution(b)).isEmpty();
    assertThat(store.findCurrentRunId("ns", "order-2")).isEmpty();
    assertThat(store.readEvents(a, 1, 10)).hasSize(2);
    assertThat(store.findExecution(a).orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void aLeaseTakenOverLandsNothingOfTheCommit() throws SQLException {
    Lease held = store.tryAcquireLease("shard-1", "node-a", "a:1", 60_000).orElseThrow();
    Lease lost = store.tryAcquireLease("shard-2", "node-a", "a:1", 1).orElseThrow();
    org.awaitility.Awaitility.await().until(() -> store.tryAcquireLease("shard-2", "node-b", "b:1", 60_000).isPresent());
    ExecutionKey a = new ExecutionKey("ns", "order-1", "run-a");

    assertThatThrownBy(() -> send(List.of(held, lost), List.of(create(a))))
        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo(PostgresCommit.LEASE_LOST))
        .hasMessageContaining("lease shard-2 (version " + lost.version() + ")");
    assertThat(store.findExecution(a)).isEmpty();

    send(List.of(held), List.of(create(a)));
    assertThat(store.findExecution(a)).isPresent();
  }
}
