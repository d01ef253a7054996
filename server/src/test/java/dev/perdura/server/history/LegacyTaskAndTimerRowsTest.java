package dev.perdura.server.history;

import static dev.perdura.server.frontend.DirectCalls.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.frontend.Namespaces;
import dev.perdura.server.frontend.WorkflowServiceFrontend;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database written by a server that kept a run's queued tasks and armed timers as rows of their
 * own (the {@code tasks} and {@code timers} tables) still runs: a start puts those rows back into
 * the queues, and the run's next change folds them into its state and deletes them.
 */
class LegacyTaskAndTimerRowsTest {
  private static final String NAMESPACE = "default";

  @TempDir Path dir;
  private SqliteStore store;
  private Matching matching;
  private HistoryService history;
  private WorkflowServiceFrontend frontend;

  private void startServer() {
    matching = new Matching();
    history = new HistoryService(store, matching, Clock.systemUTC(), 1, new SimpleMeterRegistry(), Peers.NONE);
    history.start();
    history.acquireAll();
    Namespaces namespaces = new Namespaces(store, Clock.systemUTC());
    namespaces.ensure(NAMESPACE);
    frontend = new WorkflowServiceFrontend(namespaces, history, matching, store, Runnable::run);
  }

  private void stopServer() {
    matching.close();
    frontend.close();
    history.close();
  }

  @AfterEach
  void close() {
    stopServer();
    store.close();
  }

  @Test
  void oldRowsAreRestoredThenFoldedIntoTheStateByTheRunsNextChange() throws Exception {
    Path file = dir.resolve("perdura.db");
    store = SqliteStore.open(file);
    store.migrate();
    startServer();
    String queue = "q-" + UUID.randomUUID();
    StartWorkflowExecutionResponse started = call(frontend::startWorkflowExecution,
        StartWorkflowExecutionRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setWorkflowId("wf-legacy")
            .setWorkflowType(WorkflowType.newBuilder().setName("Greeting"))
            .setTaskQueue(TaskQueue.newBuilder().setName(queue))
            .setWorkflowRunTimeout(com.google.protobuf.util.Durations.fromSeconds(3600))
            .setRequestId(UUID.randomUUID().toString())
            .build());
    ExecutionKey run = new ExecutionKey(NAMESPACE, "wf-legacy", started.getRunId());
    stopServer();

    // Rewrite the run as the older server stored it: its workflow task and run timeout as rows.
    ExecutionState state = StateCodec.decode(store.findExecution(run).orElseThrow().state());
    assertThat(state.queuedTasks).singleElement().satisfies(t -> assertThat(t.kind()).isEqualTo(TaskKind.WORKFLOW));
    assertThat(state.armedTimers).containsKey(Runs.RUN_TIMEOUT_TIMER);
    TaskRow task = state.queuedTasks.getFirst();
    Map<String, Long> timers = Map.copyOf(state.armedTimers);
    state.queuedTasks.clear();
    state.armedTimers.clear();
    state.holdsTasksAndTimers = false;
    try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      try (PreparedStatement update = raw.prepareStatement(
          "UPDATE executions SET state = ?, pending = 0 WHERE run_id = ?")) {
        update.setBytes(1, new StateCodec.Encoder().encode(state));
        update.setString(2, run.runId());
        assertThat(update.executeUpdate()).isEqualTo(1);
      }
      try (PreparedStatement insert = raw.prepareStatement(
          "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        insert.setString(1, NAMESPACE);
        insert.setString(2, run.workflowId());
        insert.setString(3, run.runId());
        insert.setString(4, task.kind().name());
        insert.setLong(5, task.scheduledEventId());
        insert.setString(6, task.taskQueue());
        insert.setInt(7, task.attempt());
        insert.setInt(8, 0);
        insert.setString(9, "");
        insert.setFloat(10, 0f);
        insert.setLong(11, task.createdAtMillis());
        insert.executeUpdate();
      }
      for (Map.Entry<String, Long> timer : timers.entrySet()) {
        try (PreparedStatement insert = raw.prepareStatement("INSERT INTO timers VALUES (?, ?, ?, ?, ?)")) {
          insert.setString(1, NAMESPACE);
          insert.setString(2, run.workflowId());
          insert.setString(3, run.runId());
          insert.setString(4, timer.getKey());
          insert.setLong(5, timer.getValue());
          insert.executeUpdate();
        }
      }
    }
    assertThat(store.loadPending()).isEmpty();

    startServer();
    assertThat(matching.queue(NAMESPACE, queue, TaskKind.WORKFLOW).backlogSize()).as("restored from its row").isEqualTo(1);
    assertThat(history.pendingTimers()).isEqualTo(timers.size());

    PollWorkflowTaskQueueResponse polled = call(frontend::pollWorkflowTaskQueue, PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setIdentity("worker")
        .build());
    assertThat(polled.getWorkflowExecution().getRunId()).isEqualTo(run.runId());
    assertThat(rows(file, "tasks") + rows(file, "timers")).as("folded into the state by the task's start").isZero();
    assertThat(store.loadPending()).singleElement().satisfies(row -> {
      ExecutionState folded = StateCodec.decode(row.state());
      assertThat(folded.holdsTasksAndTimers).isTrue();
      assertThat(folded.queuedTasks).as("started").isEmpty();
      assertThat(folded.armedTimers).containsEntry(Runs.RUN_TIMEOUT_TIMER, timers.get(Runs.RUN_TIMEOUT_TIMER));
    });

    call(frontend::respondWorkflowTaskCompleted, RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(polled.getTaskToken())
        .setIdentity("worker")
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
            .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.getDefaultInstance()))
        .build());
    assertThat(store.loadPending()).as("closed: nothing left to restore").extracting(ExecutionRow::key).isEmpty();
    assertThat(history.pendingTimers()).isZero();
  }

  private static int rows(Path file, String table) throws Exception {
    try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file);
        ResultSet rs = raw.createStatement().executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
