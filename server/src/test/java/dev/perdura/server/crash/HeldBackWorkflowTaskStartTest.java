package dev.perdura.server.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.Durations;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A workflow task started by a poll is held in memory, not written, until the run's next change
 * (docs/server.md, "Workflow task starts held back"): the poll and the history see it at once, the
 * store once the task completes; a server that stops writes it, and one that crashes forgets it,
 * dispatches the task again, and refuses the first worker's completion.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HeldBackWorkflowTaskStartTest {
  /** A run's history once its one workflow task completed it. */
  private static final List<EventType> COMPLETED = List.of(
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

  @TempDir Path dir;

  /** A raw gRPC client of one server. */
  private record Client(ManagedChannel channel, WorkflowServiceGrpc.WorkflowServiceBlockingStub stub)
      implements AutoCloseable {
    static Client of(String target) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
      return new Client(channel, WorkflowServiceGrpc.newBlockingStub(channel));
    }

    String start(String queue, String workflowId) {
      return stub.startWorkflowExecution(StartWorkflowExecutionRequest.newBuilder()
          .setNamespace("default")
          .setWorkflowId(workflowId)
          .setWorkflowType(WorkflowType.newBuilder().setName("HeldBack"))
          .setTaskQueue(TaskQueue.newBuilder().setName(queue))
          .setWorkflowTaskTimeout(Durations.fromSeconds(60))
          .setRequestId(UUID.randomUUID().toString())
          .build()).getRunId();
    }

    PollWorkflowTaskQueueResponse poll(String queue) {
      return stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest.newBuilder()
          .setNamespace("default")
          .setTaskQueue(TaskQueue.newBuilder().setName(queue))
          .setIdentity("held-back-test")
          .build());
    }

    void complete(PollWorkflowTaskQueueResponse task) {
      stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
          .setNamespace("default")
          .setTaskToken(task.getTaskToken())
          .addCommands(Command.newBuilder()
              .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
              .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.newBuilder()))
          .build());
    }

    List<HistoryEvent> history(String workflowId) {
      return stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
              .setNamespace("default")
              .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
              .build())
          .getHistory().getEventsList();
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static List<EventType> types(List<HistoryEvent> events) {
    return events.stream().map(HistoryEvent::getEventType).toList();
  }

  /** The events of a run as the store has them, read through a connection of its own. */
  private List<Long> storedEventIds(ExecutionKey run) {
    try (SqliteStore store = SqliteStore.open(dir.resolve("perdura.db"))) {
      return store.readEvents(run, 1, 1000).stream().map(EventRow::eventId).toList();
    }
  }

  private PerduraServer startServer() {
    return PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
  }

  @Test
  void aPolledStartReachesTheStoreWithTheRunsNextChangeAndIsSeenBeforeThat() throws Exception {
    String queue = "held-back-" + UUID.randomUUID();
    String workflowId = "held-back-" + UUID.randomUUID();
    try (PerduraServer server = startServer(); Client client = Client.of(server.target())) {
      String runId = client.start(queue, workflowId);
      ExecutionKey run = new ExecutionKey("default", workflowId, runId);
      PollWorkflowTaskQueueResponse task = client.poll(queue);

      assertThat(task.getStartedEventId()).isEqualTo(3);
      assertThat(types(task.getHistory().getEventsList())).containsExactly(
          EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
          EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
          EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      assertThat(storedEventIds(run)).as("the start is held back").containsExactly(1L, 2L);
      assertThat(types(client.history(workflowId))).as("the history shows what is held back")
          .endsWith(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);

      client.complete(task);

      assertThat(storedEventIds(run)).as("the completion's write carries the start").containsExactly(1L, 2L, 3L, 4L, 5L);
      assertThat(types(client.history(workflowId))).isEqualTo(COMPLETED);
    }
  }

  @Test
  void aServerThatStopsWritesTheStartsItHeldBackSoTheirCompletionsAreAccepted() throws Exception {
    String queue = "held-back-stop-" + UUID.randomUUID();
    String workflowId = "held-back-stop-" + UUID.randomUUID();
    PollWorkflowTaskQueueResponse task;
    ExecutionKey run;
    try (PerduraServer server = startServer(); Client client = Client.of(server.target())) {
      run = new ExecutionKey("default", workflowId, client.start(queue, workflowId));
      task = client.poll(queue);
      assertThat(storedEventIds(run)).containsExactly(1L, 2L);
    }
    assertThat(storedEventIds(run)).as("written when the server stopped").containsExactly(1L, 2L, 3L);

    try (PerduraServer server = startServer(); Client client = Client.of(server.target())) {
      client.complete(task);

      assertThat(types(client.history(workflowId))).isEqualTo(COMPLETED);
    }
  }

  @Test
  void aStartForgottenInACrashIsDispatchedAgainAndTheFirstWorkersCompletionIsRefused() throws Exception {
    String queue = "held-back-crash-" + UUID.randomUUID();
    String workflowId = "held-back-crash-" + UUID.randomUUID();
    try (ServerProcess server = new ServerProcess(dir)) {
      server.start();
      PollWorkflowTaskQueueResponse first;
      try (Client client = Client.of(server.target())) {
        client.start(queue, workflowId);
        first = client.poll(queue);
      }
      server.kill();
      server.start();
      try (Client client = Client.of(server.target())) {
        PollWorkflowTaskQueueResponse again = client.poll(queue);

        assertThat(again.getStartedEventId()).isEqualTo(first.getStartedEventId());
        // The run is not in the restarted server's memory: its history comes from the store, and
        // the start just made from what the shard holds back.
        assertThat(types(again.getHistory().getEventsList())).containsExactly(
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
        assertThatThrownBy(() -> client.complete(first))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

        client.complete(again);

        assertThat(types(client.history(workflowId))).isEqualTo(COMPLETED);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- server log ---\n" + server.logText(), e);
      }
    }
  }
}
