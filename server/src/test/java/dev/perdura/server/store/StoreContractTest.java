package dev.perdura.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What every store guarantees, checked on SQLite and on PostgreSQL alike. */
class StoreContractTest {
  private final List<Store> opened = new ArrayList<>();

  static Stream<Arguments> stores() {
    return Stream.of(
        Arguments.of("SQLite", (Supplier<Store>) SqliteStore::inMemory),
        Arguments.of("PostgreSQL", (Supplier<Store>) () -> PostgresStore.open(TestPostgres.get().newDatabase("contract"))));
  }

  private Store open(Supplier<Store> factory) {
    Store store = factory.get();
    opened.add(store);
    store.migrate();
    return store;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(Store::close);
  }

  private static final ExecutionKey RUN = new ExecutionKey("ns", "order-1", "run-1");

  private static ExecutionRow row(ExecutionKey key, long version, String state, int status, long closeTime) {
    return new ExecutionRow(key, version, state.getBytes(),
        new VisibilityRow("Order", "orders", status, 1_000, closeTime, 1_000, version, key.runId(),
            new byte[] {7}, new byte[0]));
  }

  private static ExecutionWrite create(ExecutionKey key, List<EventRow> events, boolean pending) {
    return new ExecutionWrite(row(key, 1, "s1", 1, 0), 0, true, events, pending, false);
  }

  private static List<ExecutionKey> pending(Store store) {
    return store.loadPending().stream().map(ExecutionRow::key).toList();
  }

  private static List<EventRow> events(long from, long to) {
    List<EventRow> events = new ArrayList<>();
    for (long id = from; id <= to; id++) {
      events.add(new EventRow(id, ("event-" + id).getBytes()));
    }
    return events;
  }

  @org.junit.jupiter.api.Test
  void anUnreachableDatabaseFailsAtOnceNamingItButNotThePassword() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/nowhere?connectTimeout=2";
    assertThatThrownBy(() -> PostgresStore.open(new dev.perdura.server.Storage.Postgres(url, "u", "s3cret", 2)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("jdbc:postgresql://127.0.0.1:" + port + "/nowhere")
        .hasMessageNotContaining("s3cret")
        .hasMessageNotContaining("connectTimeout");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void migratingTwiceChangesNothing(String name, Supplier<Store> factory) {
    Store store = open(factory);
    store.migrate();
    assertThat(store.insertNamespace(new NamespaceRecord("ns", "id-1", "d", "o@x", 3600, Map.of("k", "v"), 5))).isTrue();
    store.migrate();
    assertThat(store.findNamespace("ns")).isPresent();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void currentRunsAreListedInPagesInOrder(String name, Supplier<Store> factory) {
    Store store = open(factory);
    List<ExecutionWrite> writes = new ArrayList<>();
    for (String namespace : List.of("b", "a")) {
      for (int i = 0; i < 5; i++) {
        writes.add(create(new ExecutionKey(namespace, "wf-" + i, "run-" + namespace + i), List.of(), false));
      }
    }
    store.commit(writes);

    List<ExecutionKey> listed = new ArrayList<>();
    List<ExecutionKey> page = store.listCurrentRuns("", "", 3);
    while (!page.isEmpty()) {
      assertThat(page.size()).isLessThanOrEqualTo(3);
      listed.addAll(page);
      page = store.listCurrentRuns(page.getLast().namespace(), page.getLast().workflowId(), 3);
    }

    assertThat(listed).extracting(k -> k.namespace() + "/" + k.workflowId() + "/" + k.runId()).containsExactly(
        "a/wf-0/run-a0", "a/wf-1/run-a1", "a/wf-2/run-a2", "a/wf-3/run-a3", "a/wf-4/run-a4",
        "b/wf-0/run-b0", "b/wf-1/run-b1", "b/wf-2/run-b2", "b/wf-3/run-b3", "b/wf-4/run-b4");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void namespacesAreInsertedOnce(String name, Supplier<Store> factory) {
    Store store = open(factory);
    NamespaceRecord ns = new NamespaceRecord("billing", "id-1", "money", "o@x", 86_400, Map.of("team", "pay"), 42);
    assertThat(store.insertNamespace(ns)).isTrue();
    assertThat(store.insertNamespace(new NamespaceRecord("billing", "id-2", "other", "", 1, Map.of(), 43))).isFalse();
    assertThat(store.findNamespace("billing")).contains(ns);
    assertThat(store.findNamespace("nope")).isEmpty();
    assertThat(store.listNamespaces()).containsExactly(ns);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aCommittedRunIsReadBackWithItsHistoryTasksAndTimers(String name, Supplier<Store> factory) {
    Store store = open(factory);
    byte[] big = new byte[300_000];
    Arrays.fill(big, (byte) 3);
    List<EventRow> history = new ArrayList<>(events(1, 4));
    history.add(new EventRow(5, big));
    store.commit(List.of(create(RUN, history, true)));

    assertThat(store.findCurrentRunId("ns", "order-1")).contains("run-1");
    assertThat(store.findCurrentRunIdToWrite("ns", "order-1")).contains("run-1");
    assertThat(store.findExecutionToWrite(RUN)).get().usingRecursiveComparison().isEqualTo(store.findExecution(RUN).orElseThrow());
    ExecutionRow read = store.findExecution(RUN).orElseThrow();
    assertThat(read.version()).isEqualTo(1);
    assertThat(read.state()).isEqualTo("s1".getBytes());
    assertThat(read.visibility()).usingRecursiveComparison().isEqualTo(row(RUN, 1, "s1", 1, 0).visibility());
    assertThat(store.readEvents(RUN, 2, 2)).extracting(EventRow::eventId).containsExactly(2L, 3L);
    assertThat(store.readEvents(RUN, 5, 10)).singleElement().satisfies(e -> assertThat(e.data()).isEqualTo(big));
    assertThat(store.loadPending()).singleElement().satisfies(p -> {
      assertThat(p.key()).isEqualTo(RUN);
      assertThat(p.state()).isEqualTo("s1".getBytes());
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aRunIsPendingUntilAWriteSaysItHoldsNoTasksOrTimers(String name, Supplier<Store> factory) {
    Store store = open(factory);
    ExecutionKey idle = new ExecutionKey("ns", "order-2", "run-2");
    store.commit(List.of(create(RUN, events(1, 2), true), create(idle, events(1, 1), false)));
    assertThat(pending(store)).containsExactly(RUN);

    VisibilityRow same = row(RUN, 2, "s2", 1, 0).visibility();
    store.commit(List.of(new ExecutionWrite(new ExecutionRow(RUN, 2, "s2".getBytes(), same), 1, false, events(3, 3),
        true, false, false, true)));
    assertThat(store.loadPending()).singleElement()
        .satisfies(p -> assertThat(p.state()).as("read with its latest state").isEqualTo("s2".getBytes()));

    store.commit(List.of(new ExecutionWrite(row(RUN, 3, "s3", 2, 5_000), 2, false, List.of(), false, false),
        new ExecutionWrite(row(idle, 2, "s2", 1, 0), 1, false, List.of(), true, false)));
    assertThat(pending(store)).containsExactly(idle);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aStateOnlyWriteChangesStateStatusAndLengthAndChecksTheVersion(String name, Supplier<Store> factory) {
    Store store = open(factory);
    store.commit(List.of(create(RUN, events(1, 1), false)));
    VisibilityRow claimed = new VisibilityRow("Other", "elsewhere", 2, 9, 9, 9, 5, "x", new byte[] {9}, new byte[] {9});

    store.commit(List.of(new ExecutionWrite(new ExecutionRow(RUN, 2, "s2".getBytes(), claimed), 1, false,
        events(2, 5), false, false, false, true)));

    ExecutionRow stored = store.findExecution(RUN).orElseThrow();
    assertThat(stored.version()).isEqualTo(2);
    assertThat(stored.state()).isEqualTo("s2".getBytes());
    assertThat(stored.visibility().status()).isEqualTo(2);
    assertThat(stored.visibility().historyLength()).isEqualTo(5);
    assertThat(stored.visibility().workflowType()).as("left as it was").isEqualTo("Order");
    assertThat(stored.visibility().memo()).isEqualTo(new byte[] {7});
    assertThat(stored.visibility().closeTimeMillis()).isZero();
    assertThatThrownBy(() -> store.commit(List.of(new ExecutionWrite(new ExecutionRow(RUN, 2, "lost".getBytes(), claimed),
        1, false, List.of(), false, false, false, true))))
        .isInstanceOf(ConcurrentUpdateException.class);
    assertThat(store.findExecution(RUN).orElseThrow().state()).isEqualTo("s2".getBytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void eventsWrittenTogetherAreReadInAnyRange(String name, Supplier<Store> factory) {
    Store store = open(factory);
    store.commit(List.of(create(RUN, events(1, 5), false)));
    store.commit(List.of(new ExecutionWrite(row(RUN, 2, "s2", 1, 0), 1, false, events(6, 7), false, false)));
    store.commit(List.of(new ExecutionWrite(row(RUN, 3, "s3", 1, 0), 2, false, events(8, 8), false, false)));

    assertThat(ids(store.readEvents(RUN, 1, 100))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(ids(store.readEvents(RUN, 3, 3))).containsExactly(3L, 4L, 5L);
    assertThat(ids(store.readEvents(RUN, 5, 2))).containsExactly(5L, 6L);
    assertThat(ids(store.readEvents(RUN, 7, 100))).containsExactly(7L, 8L);
    assertThat(store.readEvents(RUN, 9, 10)).isEmpty();
    assertThat(store.readEvents(RUN, 4, 1)).singleElement()
        .satisfies(e -> assertThat(e.data()).isEqualTo("event-4".getBytes()));
    assertThatThrownBy(() -> store.commit(List.of(new ExecutionWrite(row(RUN, 4, "s4", 1, 0), 3, false,
        List.of(new EventRow(9, new byte[] {1}), new EventRow(11, new byte[] {2})), false, false)))).hasMessageContaining("contiguous");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void writesOfOneRunInOneCommitLandAsItsLastRowWithAllTheirEvents(String name, Supplier<Store> factory) {
    Store store = open(factory);
    store.commit(List.of(
        create(RUN, events(1, 2), true),
        new ExecutionWrite(new ExecutionRow(RUN, 2, "s2".getBytes(), row(RUN, 2, "s2", 1, 0).visibility()), 1, false,
            events(3, 3), true, false, false, true),
        new ExecutionWrite(row(RUN, 3, "s3", 2, 5_000), 2, false, events(4, 6), false, false)));

    ExecutionRow stored = store.findExecution(RUN).orElseThrow();
    assertThat(stored.version()).isEqualTo(3);
    assertThat(stored.state()).isEqualTo("s3".getBytes());
    assertThat(stored.visibility().closeTimeMillis()).isEqualTo(5_000);
    assertThat(ids(store.readEvents(RUN, 1, 100))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(store.findCurrentRunId("ns", "order-1")).contains("run-1");
    assertThat(pending(store)).isEmpty();

    store.commit(List.of(
        new ExecutionWrite(row(RUN, 4, "s4", 1, 0), 3, false, events(7, 7), true, false),
        new ExecutionWrite(new ExecutionRow(RUN, 5, "s5".getBytes(), row(RUN, 5, "s5", 1, 0).visibility()), 4, false,
            events(8, 9), true, false, false, true)));

    stored = store.findExecution(RUN).orElseThrow();
    assertThat(stored.version()).isEqualTo(5);
    assertThat(stored.state()).isEqualTo("s5".getBytes());
    assertThat(stored.visibility().closeTimeMillis()).as("from the full update").isZero();
    assertThat(ids(store.readEvents(RUN, 1, 100))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    assertThat(pending(store)).containsExactly(RUN);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aCommitWhoseLaterWriteOfARunMissesItsVersionLandsNothing(String name, Supplier<Store> factory) {
    Store store = open(factory);
    store.commit(List.of(create(RUN, events(1, 1), false)));
    ExecutionKey other = new ExecutionKey("ns", "order-2", "run-2");

    assertThatThrownBy(() -> store.commit(List.of(
        create(other, events(1, 1), false),
        new ExecutionWrite(row(RUN, 2, "s2", 1, 0), 1, false, events(2, 2), false, false),
        new ExecutionWrite(row(RUN, 3, "s3", 1, 0), 1, false, List.of(), false, false))))
        .isInstanceOf(ConcurrentUpdateException.class);

    assertThat(store.findExecution(other)).isEmpty();
    assertThat(store.findExecution(RUN).orElseThrow().version()).isEqualTo(1);
    assertThat(ids(store.readEvents(RUN, 1, 100))).containsExactly(1L);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aWorkflowIdMadeCurrentTwiceInOneCommitEndsAtTheLaterRun(String name, Supplier<Store> factory) {
    Store store = open(factory);
    ExecutionKey firstRun = new ExecutionKey("ns", "order-9", "run-a");
    ExecutionKey secondRun = new ExecutionKey("ns", "order-9", "run-b");
    ExecutionKey thirdRun = new ExecutionKey("ns", "order-9", "run-0");

    store.commit(List.of(create(firstRun, events(1, 1), false), create(secondRun, events(1, 1), false)));
    assertThat(store.findCurrentRunId("ns", "order-9")).contains("run-b");

    store.commit(List.of(create(thirdRun, events(1, 1), false)));
    assertThat(store.findCurrentRunId("ns", "order-9")).contains("run-0");
  }

  private static List<Long> ids(List<EventRow> events) {
    return events.stream().map(EventRow::eventId).toList();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aStaleVersionFailsTheWholeBatch(String name, Supplier<Store> factory) {
    Store store = open(factory);
    ExecutionKey other = new ExecutionKey("ns", "order-2", "run-2");
    store.commit(List.of(create(RUN, events(1, 1), false)));

    ExecutionWrite fine = create(other, events(1, 1), true);
    ExecutionWrite stale = new ExecutionWrite(row(RUN, 6, "lost", 1, 0), 5, false, events(2, 2), false, false);
    assertThatThrownBy(() -> store.commit(List.of(fine, stale))).isInstanceOf(ConcurrentUpdateException.class)
        .hasMessageContaining("order-1");
    assertThat(store.findExecution(other)).isEmpty();
    assertThat(store.loadPending()).isEmpty();
    assertThat(store.findExecution(RUN).orElseThrow().version()).isEqualTo(1);
    assertThat(store.readEvents(RUN, 1, 10)).hasSize(1);

    assertThatThrownBy(() -> store.commit(List.of(create(RUN, List.of(), false))))
        .isInstanceOf(ConcurrentUpdateException.class).hasMessageContaining("already exists");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void aNewRunBecomesCurrentAndPurgingForgetsEverything(String name, Supplier<Store> factory) {
    Store store = open(factory);
    ExecutionKey second = new ExecutionKey("ns", "order-1", "run-2");
    store.commit(List.of(new ExecutionWrite(row(RUN, 1, "s", 2, 2_000), 0, true, events(1, 2), false, false)));
    assertThat(store.findCurrentRunIdToWrite("ns", "order-1")).contains("run-1");
    store.commit(List.of(create(second, events(1, 1), true)));
    assertThat(store.findCurrentRunId("ns", "order-1")).contains("run-2");
    assertThat(store.findCurrentRunIdToWrite("ns", "order-1")).as("the writer's own reads see each commit").contains("run-2");

    assertThat(store.findClosedBefore("ns", 3_000, 10)).containsExactly(RUN);
    assertThat(store.findClosedBefore("ns", 2_000, 10)).isEmpty();

    store.commit(List.of(new ExecutionWrite(row(second, 1, "s", 1, 0), 1, false, List.of(), false, true)));
    assertThat(store.findExecution(second)).isEmpty();
    assertThat(store.readEvents(second, 1, 10)).isEmpty();
    assertThat(store.loadPending()).isEmpty();
    assertThat(store.findCurrentRunId("ns", "order-1")).isEmpty();
    assertThat(store.findCurrentRunIdToWrite("ns", "order-1")).isEmpty();
    assertThat(store.findExecutionToWrite(second)).isEmpty();
    assertThat(store.findExecution(RUN)).isPresent();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void listingPagesThroughExecutionsOfOneNamespace(String name, Supplier<Store> factory) {
    Store store = open(factory);
    List<ExecutionWrite> writes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      writes.add(create(new ExecutionKey("ns", "wf-" + i, "r" + i), List.of(), false));
    }
    writes.add(create(new ExecutionKey("elsewhere", "wf-x", "rx"), List.of(), false));
    store.commit(writes);
    VisibilityFilter byId = new VisibilityFilter("1=1", List.of(), "workflow_id");
    assertThat(store.listExecutions("ns", byId, 1, 2)).extracting(r -> r.key().workflowId())
        .containsExactly("wf-1", "wf-2");
    assertThat(store.countExecutions("ns", VisibilityFilter.all())).isEqualTo(5);
  }
}
