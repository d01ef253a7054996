package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Durations;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.RegisterNamespaceRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Closed workflows are deleted once their namespace's retention has passed; open ones are kept. */
class RetentionTest {
  @TempDir Path dir;
  private PerduraServer server;
  private ManagedChannel channel;
  private WorkflowServiceGrpc.WorkflowServiceBlockingStub stub;

  @BeforeEach
  void start() {
    server = PerduraServer.start(
        new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of(), Duration.ofMillis(200)));
    channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    stub = WorkflowServiceGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  private void startWorkflow(String namespace, String queue, String workflowId) {
    stub.startWorkflowExecution(StartWorkflowExecutionRequest.newBuilder()
        .setNamespace(namespace)
        .setWorkflowId(workflowId)
        .setWorkflowType(WorkflowType.newBuilder().setName("Short"))
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setRequestId(UUID.randomUUID().toString())
        .build());
  }

  private void completeNextTask(String namespace, String queue) {
    var task = stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace(namespace).setTaskQueue(TaskQueue.newBuilder().setName(queue)).setIdentity("test").build());
    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(namespace)
        .setTaskToken(task.getTaskToken())
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
            .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.getDefaultInstance()))
        .build());
  }

  private boolean exists(String namespace, String workflowId) {
    try {
      stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
          .setNamespace(namespace).setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  @Test
  void closedWorkflowsGoOnceTheirRetentionHasPassedAndOpenOnesStay() {
    stub.registerNamespace(RegisterNamespaceRequest.newBuilder()
        .setNamespace("short-lived").setWorkflowExecutionRetentionPeriod(Durations.fromSeconds(1)).build());
    String queue = "retention-" + UUID.randomUUID();
    startWorkflow("short-lived", queue, "done-1");
    completeNextTask("short-lived", queue);
    startWorkflow("short-lived", queue, "still-open");
    // The default namespace keeps closed workflows for days.
    startWorkflow("default", queue, "kept");
    completeNextTask("default", queue);

    await().atMost(Duration.ofSeconds(20)).until(() -> !exists("short-lived", "done-1"));

    assertThatThrownBy(() -> stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
            .setNamespace("short-lived").setExecution(WorkflowExecution.newBuilder().setWorkflowId("done-1")).build()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("NOT_FOUND");
    assertThat(exists("short-lived", "still-open")).isTrue();
    assertThat(exists("default", "kept")).isTrue();
    assertThat(stub.countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
        .setNamespace("short-lived").build()).getCount()).isEqualTo(1);

    // The id can be used again, as for any workflow id without a run.
    startWorkflow("short-lived", queue, "done-1");
    assertThat(exists("short-lived", "done-1")).isTrue();
  }
}
