package dev.perdura.server.visibility;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.VisibilityFilter;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.TestPostgres;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListFilterParserTest {

  private static final long T0 = Instant.parse("2026-03-01T00:00:00Z").toEpochMilli();
  /** The same rows in both stores: a filter must select the same executions in each. */
  private static SqliteStore store;
  private static PostgresStore postgres;

  /** Five executions: wf-1..wf-3 of type Order (wf-3 still running), wf-4 Refund, wf-5 in another namespace. */
  @BeforeAll
  static void seed() {
    store = SqliteStore.inMemory();
    postgres = PostgresStore.open(TestPostgres.get().newDatabase("filters"));
    for (Store s : List.of(store, postgres)) {
      s.migrate();
      s.commit(List.of(
        write("ns", "wf-1", "Order", "q1", 2, T0, T0 + 60_000, 10),
        write("ns", "wf-2", "Order", "q2", 3, T0 + 1_000, T0 + 120_000, 20),
        write("ns", "wf-3", "Order", "q1", 1, T0 + 2_000, 0, 5),
        write("ns", "wf-4", "Refund_v2", "q1", 2, T0 + 3_000, T0 + 3_500, 7),
        write("other", "wf-5", "Order", "q1", 2, T0, T0 + 1, 3)));
    }
  }

  @AfterAll
  static void close() {
    store.close();
    postgres.close();
  }

  private static ExecutionWrite write(String ns, String workflowId, String type, String queue, int status,
      long start, long close, long length) {
    var visibility = new VisibilityRow(type, queue, status, start, close, start, length, "run-" + workflowId,
        new byte[0], new byte[0]);
    var row = new ExecutionRow(new ExecutionKey(ns, workflowId, "run-" + workflowId), 1, new byte[] {1}, visibility);
    return new ExecutionWrite(row, 0, true, List.of(), false, false);
  }

  /** The matching workflow ids; fails when the two stores disagree. */
  private static List<String> ids(String query) {
    List<String> sqlite = ids(store, query);
    assertThat(ids(postgres, query)).as("PostgreSQL's answer to %s", query).isEqualTo(sqlite);
    return sqlite;
  }

  private static List<String> ids(Store s, String query) {
    return s.listExecutions("ns", ListFilterParser.toSql(query), 0, 100).stream()
        .map(r -> r.key().workflowId()).toList();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "''                                                              | wf-1,wf-2,wf-3,wf-4",
      "WorkflowId = 'wf-2'                                             | wf-2",
      "WorkflowId != \"wf-2\" ORDER BY WorkflowId                       | wf-1,wf-3,wf-4",
      "WorkflowType = 'Order' AND TaskQueue = 'q1'                     | wf-1,wf-3",
      "WorkflowType = 'Refund_v2' OR (WorkflowType = 'Order' AND ExecutionStatus = 'Failed') ORDER BY WorkflowId | wf-2,wf-4",
      "ExecutionStatus = 'Running'                                     | wf-3",
      "ExecutionStatus = Running                                       | wf-3",
      "ExecutionStatus = 2 ORDER BY WorkflowId                         | wf-1,wf-4",
      "ExecutionStatus IN ('Completed', 'Failed') ORDER BY WorkflowId  | wf-1,wf-2,wf-4",
      "WorkflowId NOT IN ('wf-1', 'wf-4') ORDER BY WorkflowId          | wf-2,wf-3",
      "StartTime >= '2026-03-01T00:00:01Z' ORDER BY StartTime DESC     | wf-4,wf-3,wf-2",
      "StartTime BETWEEN '2026-03-01T00:00:01Z' AND '2026-03-01T01:00:02+01:00' ORDER BY StartTime | wf-2,wf-3",
      "CloseTime < '2026-03-01T00:01:30Z' ORDER BY CloseTime           | wf-4,wf-1",
      "CloseTime IS NULL                                               | wf-3",
      "CloseTime IS NOT NULL ORDER BY WorkflowId                       | wf-1,wf-2,wf-4",
      "CloseTime != '2026-03-01T00:01:00Z' ORDER BY WorkflowId         | wf-2,wf-4",
      "WorkflowType STARTS_WITH 'Refund_' ORDER BY WorkflowId          | wf-4",
      "WorkflowType STARTS_WITH 'Ord'  ORDER BY WorkflowId             | wf-1,wf-2,wf-3",
      "WorkflowType STARTS_WITH '_' ORDER BY WorkflowId                | ''",
      "WorkflowType STARTS_WITH 'ord' ORDER BY WorkflowId              | ''",
      "WorkflowType STARTS_WITH 'Refund_v2' ORDER BY WorkflowId        | wf-4",
      "HistoryLength > 7 ORDER BY HistoryLength ASC                    | wf-1,wf-2",
      "`WorkflowId` = 'wf-1' or workflowid = 'x'                       | ERROR",
      "`WorkflowId` = 'wf-1' or WorkflowId = 'wf-4' order by WorkflowId desc | wf-4,wf-1",
      "ORDER BY StartTime                                              | wf-1,wf-2,wf-3,wf-4",
  })
  void filtersSelectTheMatchingExecutionsOfTheNamespace(String query, String expected) {
    if (expected.equals("ERROR")) {
      assertThatThrownBy(() -> ids(query)).isInstanceOf(InvalidListFilterException.class);
      return;
    }
    List<String> want = expected.isEmpty() ? List.of() : List.of(expected.split(","));
    if (query.contains("ORDER BY") || query.contains("order by")) {
      assertThat(ids(query)).containsExactlyElementsOf(want);
    } else {
      assertThat(ids(query)).containsExactlyInAnyOrderElementsOf(want);
    }
    assertThat(store.countExecutions("ns", ListFilterParser.toSql(query))).isEqualTo(want.size());
    assertThat(postgres.countExecutions("ns", ListFilterParser.toSql(query))).isEqualTo(want.size());
  }

  @Test
  void theDefaultOrderPutsRunningFirstThenMostRecentlyClosed() {
    assertThat(ids("")).containsExactly("wf-3", "wf-2", "wf-1", "wf-4");
  }

  @Test
  void valuesAreBoundAsParametersNeverSpliced() {
    VisibilityFilter filter = ListFilterParser.toSql("WorkflowId = 'x'' OR 1=1 --'");
    assertThat(filter.where()).isEqualTo("workflow_id = ?");
    assertThat(filter.params()).containsExactly("x' OR 1=1 --");
    assertThat(ids("WorkflowId = 'x'' OR 1=1 --'")).isEmpty();
  }

  @Test
  void timesAcceptEpochNanoseconds() {
    VisibilityFilter filter = ListFilterParser.toSql("StartTime > " + (T0 + 1_500) * 1_000_000L);
    assertThat(filter.params()).containsExactly(T0 + 1_500);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "Owner = 'me'                         | unknown search attribute 'Owner' at position 0",
      "WorkflowId = 'a' AND                 | expected a field name, found end of query",
      "WorkflowId = 'a' XOR WorkflowId = 'b'| unexpected 'XOR' at position 17",
      "WorkflowId 'a'                       | expected an operator after the field, found 'a' at position 11",
      "WorkflowId = 'open                   | unterminated ' quote starting at position 13",
      "(WorkflowId = 'a'                    | expected ')', found end of query",
      "ExecutionStatus = 'Sleeping'         | unknown execution status 'Sleeping' at position 18",
      "StartTime > 'yesterday'              | invalid time 'yesterday' at position 12",
      "HistoryLength > 'ten'                | expected a number, found 'ten' at position 16",
      "WorkflowId = 42                      | expected a quoted string, found '42' at position 13",
      "HistoryLength STARTS_WITH 1          | STARTS_WITH needs a text field",
      "WorkflowId IN 'a'                    | expected '(' after IN, found 'a' at position 14",
      "WorkflowId = 'a' ORDER StartTime     | expected BY, found 'StartTime' at position 23",
      "WorkflowId = 'a' ; DROP TABLE x      | unexpected character ';' at position 17",
  })
  void badQueriesNameTheOffendingTokenAndPosition(String query, String message) {
    assertThatThrownBy(() -> ListFilterParser.toSql(query))
        .isInstanceOf(InvalidListFilterException.class)
        .hasMessageContaining(message);
  }
}
