package dev.perdura.server.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.util.Durations;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.common.TaskToken;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.CancelTimerCommandAttributes;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.ContinueAsNewWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.RecordMarkerCommandAttributes;
import io.temporal.api.command.v1.RequestCancelActivityTaskCommandAttributes;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.command.v1.StartTimerCommandAttributes;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.StickyExecutionAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskFailedRequest;
import io.temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed requests at the wire: each is answered with the status SDKs expect and a message that
 * names the offending field, and leaves the store as it was. Bad commands in a workflow task
 * completion fail that task with the cause SDKs expect (never an internal error) and leave the
 * workflow running.
 */
class BadInputTest {
  private static final String NAMESPACE = "default";
  private static final int LIMIT = Validation.MAX_ID_BYTES;
  /** A running workflow that signal and token cases aim at; its history must never grow. */
  private static final String TARGET = "bad-input-target-" + UUID.randomUUID();

  @TempDir static Path dir;
  private static PerduraServer server;
  private static ManagedChannel channel;
  private static WorkflowServiceBlockingStub stub;
  private static String targetRunId;

  @BeforeAll
  static void startServer() {
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
    channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    stub = WorkflowServiceGrpc.newBlockingStub(channel);
    targetRunId = stub.startWorkflowExecution(start(TARGET).build()).getRunId();
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  // ---- request builders -----------------------------------------------------------------------

  private static String newId(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  /** ASCII, one byte over the limit. */
  private static String tooLong() {
    return "x".repeat(LIMIT + 1);
  }

  /** Within the limit in characters but over it in UTF-8 bytes: the limit counts bytes. */
  private static String tooManyBytes() {
    return "é".repeat(LIMIT / 2 + 1);
  }

  private static Duration duration(long seconds, int nanos) {
    return Duration.newBuilder().setSeconds(seconds).setNanos(nanos).build();
  }

  private static StartWorkflowExecutionRequest.Builder start(String workflowId) {
    return StartWorkflowExecutionRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setWorkflowId(workflowId)
        .setWorkflowType(WorkflowType.newBuilder().setName("BadInputWorkflow"))
        .setTaskQueue(TaskQueue.newBuilder().setName(newId("queue")))
        .setRequestId(UUID.randomUUID().toString());
  }

  private static SignalWithStartWorkflowExecutionRequest.Builder signalWithStart(String workflowId) {
    return SignalWithStartWorkflowExecutionRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setWorkflowId(workflowId)
        .setWorkflowType(WorkflowType.newBuilder().setName("BadInputWorkflow"))
        .setTaskQueue(TaskQueue.newBuilder().setName(newId("queue")))
        .setSignalName("poke")
        .setRequestId(UUID.randomUUID().toString());
  }

  private static SignalWorkflowExecutionRequest.Builder signal() {
    return SignalWorkflowExecutionRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(TARGET))
        .setSignalName("poke")
        .setRequestId(UUID.randomUUID().toString());
  }

  private static PollWorkflowTaskQueueRequest.Builder pollWorkflowTask() {
    return PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(newId("queue")))
        .setIdentity("bad-input-test");
  }

  private static PollActivityTaskQueueRequest.Builder pollActivityTask() {
    return PollActivityTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(newId("queue")))
        .setIdentity("bad-input-test");
  }

  private static DescribeWorkflowExecutionRequest.Builder describe(String workflowId) {
    return DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId));
  }

  // ---- observing the store --------------------------------------------------------------------

  private static long executionCount() {
    return stub.countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setQuery("")
            .build())
        .getCount();
  }

  private static DescribeWorkflowExecutionResponse describeExecution(String workflowId) {
    return stub.describeWorkflowExecution(describe(workflowId).build());
  }

  private static long historyLength(String workflowId) {
    return describeExecution(workflowId).getWorkflowExecutionInfo().getHistoryLength();
  }

  private static List<HistoryEvent> history(String workflowId) {
    return stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
            .build())
        .getHistory().getEventsList();
  }

  private static void assertStatus(Runnable call, Status.Code code, String... messageParts) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).as("status of %s", e.getMessage()).isEqualTo(code))
        .hasMessageContainingAll(messageParts);
  }

  // ---- malformed requests ---------------------------------------------------------------------

  /**
   * A request that must be rejected.
   *
   * @param messagePart what the message must contain: the field (or the unknown name)
   * @param triedWorkflowId the workflow the request would have created, which must not exist after
   *     it; null when the request names none that could be looked up
   */
  record Rejected(
      Status.Code code, String messagePart, String triedWorkflowId, Consumer<WorkflowServiceBlockingStub> call) {}

  private static Named<Rejected> invalid(String name, String field, Consumer<WorkflowServiceBlockingStub> call) {
    return Named.of(name, new Rejected(Status.Code.INVALID_ARGUMENT, field, null, call));
  }

  private static Named<Rejected> notFound(String name, String part, Consumer<WorkflowServiceBlockingStub> call) {
    return Named.of(name, new Rejected(Status.Code.NOT_FOUND, part, null, call));
  }

  /**
   * The id the request would have started, when DescribeWorkflowExecution can look it up (the
   * running target is checked through its history length instead).
   */
  private static String lookupable(String workflowId) {
    boolean unusable = workflowId.isEmpty() || workflowId.getBytes(StandardCharsets.UTF_8).length > LIMIT;
    return unusable || workflowId.equals(TARGET) ? null : workflowId;
  }

  private static Named<Rejected> badStart(
      String name, Status.Code code, String part, UnaryOperator<StartWorkflowExecutionRequest.Builder> breakIt) {
    StartWorkflowExecutionRequest request = breakIt.apply(start(newId("wf"))).build();
    return Named.of("StartWorkflowExecution: " + name,
        new Rejected(code, part, lookupable(request.getWorkflowId()), s -> s.startWorkflowExecution(request)));
  }

  private static Named<Rejected> badStart(
      String name, String field, UnaryOperator<StartWorkflowExecutionRequest.Builder> breakIt) {
    return badStart(name, Status.Code.INVALID_ARGUMENT, field, breakIt);
  }

  private static Named<Rejected> badSignalWithStart(
      String name, Status.Code code, String part, UnaryOperator<SignalWithStartWorkflowExecutionRequest.Builder> breakIt) {
    SignalWithStartWorkflowExecutionRequest request = breakIt.apply(signalWithStart(newId("wf"))).build();
    return Named.of("SignalWithStartWorkflowExecution: " + name,
        new Rejected(code, part, lookupable(request.getWorkflowId()), s -> s.signalWithStartWorkflowExecution(request)));
  }

  private static Named<Rejected> badSignalWithStart(
      String name, String field, UnaryOperator<SignalWithStartWorkflowExecutionRequest.Builder> breakIt) {
    return badSignalWithStart(name, Status.Code.INVALID_ARGUMENT, field, breakIt);
  }

  private static Named<Rejected> badSignal(
      String name, Status.Code code, String part, UnaryOperator<SignalWorkflowExecutionRequest.Builder> breakIt) {
    SignalWorkflowExecutionRequest request = breakIt.apply(signal()).build();
    return Named.of("SignalWorkflowExecution: " + name,
        new Rejected(code, part, null, s -> s.signalWorkflowExecution(request)));
  }

  private static Named<Rejected> badSignal(
      String name, String field, UnaryOperator<SignalWorkflowExecutionRequest.Builder> breakIt) {
    return badSignal(name, Status.Code.INVALID_ARGUMENT, field, breakIt);
  }

  static Stream<Named<Rejected>> malformedRequests() {
    String unknownNamespace = newId("no-such-namespace");
    return Stream.of(
        badStart("missing namespace", "namespace", b -> b.clearNamespace()),
        badStart("unknown namespace", Status.Code.NOT_FOUND, unknownNamespace, b -> b.setNamespace(unknownNamespace)),
        badStart("missing workflow id", "workflow_id", b -> b.clearWorkflowId()),
        badStart("workflow id over the limit", "workflow_id", b -> b.setWorkflowId(tooLong())),
        badStart("workflow id over the limit in bytes", "workflow_id", b -> b.setWorkflowId(tooManyBytes())),
        badStart("missing workflow type", "workflow_type", b -> b.clearWorkflowType()),
        badStart("workflow type over the limit", "workflow_type.name",
            b -> b.setWorkflowType(WorkflowType.newBuilder().setName(tooManyBytes()))),
        badStart("missing task queue", "task_queue", b -> b.clearTaskQueue()),
        badStart("task queue without name", "task_queue", b -> b.setTaskQueue(TaskQueue.getDefaultInstance())),
        badStart("task queue name over the limit", "task_queue.name",
            b -> b.setTaskQueue(TaskQueue.newBuilder().setName(tooManyBytes()))),
        badStart("request id over the limit", "request_id", b -> b.setRequestId(tooLong())),
        badStart("negative workflow_execution_timeout", "workflow_execution_timeout",
            b -> b.setWorkflowExecutionTimeout(duration(-5, 0))),
        badStart("negative workflow_run_timeout", "workflow_run_timeout",
            b -> b.setWorkflowRunTimeout(duration(-5, 0))),
        badStart("negative workflow_task_timeout", "workflow_task_timeout",
            b -> b.setWorkflowTaskTimeout(duration(0, -1_000_000))),
        badStart("workflow_task_timeout with nanos out of range", "workflow_task_timeout",
            b -> b.setWorkflowTaskTimeout(duration(1, 1_000_000_000))),
        badStart("workflow_run_timeout with mixed signs", "workflow_run_timeout",
            b -> b.setWorkflowRunTimeout(duration(5, -1))),
        badStart("absurd workflow_execution_timeout", "workflow_execution_timeout",
            b -> b.setWorkflowExecutionTimeout(Durations.fromDays(200 * 366))),
        badStart("negative workflow_start_delay", "workflow_start_delay",
            b -> b.setWorkflowStartDelay(duration(-5, 0))),
        badStart("negative retry_policy.initial_interval", "retry_policy.initial_interval",
            b -> b.setRetryPolicy(RetryPolicy.newBuilder().setInitialInterval(duration(-1, 0)))),
        badStart("retry_policy.backoff_coefficient below 1", "retry_policy.backoff_coefficient",
            b -> b.setRetryPolicy(RetryPolicy.newBuilder().setBackoffCoefficient(0.5))),
        badStart("a cron schedule (not supported yet)", "cron_schedule", b -> b.setCronSchedule("* * * * *")),
        badStart("retry_policy.maximum_interval below the default initial interval",
            "retry_policy.maximum_interval",
            b -> b.setRetryPolicy(RetryPolicy.newBuilder().setMaximumInterval(duration(0, 500_000_000)))),
        badStart("priority_key above 5", "priority.priority_key",
            b -> b.setPriority(Priority.newBuilder().setPriorityKey(6))),
        badStart("negative priority_key", "priority.priority_key",
            b -> b.setPriority(Priority.newBuilder().setPriorityKey(-1))),
        badStart("fairness_key over 64 bytes", "priority.fairness_key",
            b -> b.setPriority(Priority.newBuilder().setFairnessKey("k".repeat(65)))),
        badStart("negative fairness_weight", "priority.fairness_weight",
            b -> b.setPriority(Priority.newBuilder().setFairnessWeight(-1))),

        badSignalWithStart("missing namespace", "namespace", b -> b.clearNamespace()),
        badSignalWithStart("retry_policy.backoff_coefficient below 1", Status.Code.INVALID_ARGUMENT,
            "retry_policy.backoff_coefficient",
            b -> b.setRetryPolicy(RetryPolicy.newBuilder().setBackoffCoefficient(0.5))),
        badSignalWithStart("unknown namespace", Status.Code.NOT_FOUND, unknownNamespace,
            b -> b.setNamespace(unknownNamespace)),
        badSignalWithStart("missing workflow id", "workflow_id", b -> b.clearWorkflowId()),
        badSignalWithStart("workflow id over the limit", "workflow_id", b -> b.setWorkflowId(tooManyBytes())),
        badSignalWithStart("missing workflow type", "workflow_type", b -> b.clearWorkflowType()),
        badSignalWithStart("missing task queue", "task_queue", b -> b.clearTaskQueue()),
        badSignalWithStart("task queue name over the limit", "task_queue.name",
            b -> b.setTaskQueue(TaskQueue.newBuilder().setName(tooLong()))),
        badSignalWithStart("missing signal name", "signal_name", b -> b.clearSignalName()),
        badSignalWithStart("missing signal name for a running workflow", "signal_name",
            b -> b.setWorkflowId(TARGET).clearSignalName()),
        badSignalWithStart("signal name over the limit", "signal_name", b -> b.setSignalName(tooManyBytes())),
        badSignalWithStart("request id over the limit", "request_id", b -> b.setRequestId(tooManyBytes())),
        badSignalWithStart("negative workflow_run_timeout", "workflow_run_timeout",
            b -> b.setWorkflowRunTimeout(duration(-5, 0))),
        badSignalWithStart("negative workflow_task_timeout for a running workflow", "workflow_task_timeout",
            b -> b.setWorkflowId(TARGET).setWorkflowTaskTimeout(duration(-5, 0))),
        badSignalWithStart("workflow_execution_timeout with nanos out of range", "workflow_execution_timeout",
            b -> b.setWorkflowExecutionTimeout(duration(0, -1_000_000_000))),
        badSignalWithStart("priority_key above 5", "priority.priority_key",
            b -> b.setPriority(Priority.newBuilder().setPriorityKey(9))),
        badSignalWithStart("negative fairness_weight", "priority.fairness_weight",
            b -> b.setPriority(Priority.newBuilder().setFairnessWeight(-0.5f))),

        badSignal("missing namespace", "namespace", b -> b.clearNamespace()),
        badSignal("unknown namespace", Status.Code.NOT_FOUND, unknownNamespace, b -> b.setNamespace(unknownNamespace)),
        badSignal("missing workflow execution", "workflow_execution", b -> b.clearWorkflowExecution()),
        badSignal("missing workflow id", "workflow_execution.workflow_id",
            b -> b.setWorkflowExecution(WorkflowExecution.newBuilder().setRunId(targetRunId))),
        badSignal("workflow id over the limit", "workflow_execution.workflow_id",
            b -> b.setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(tooLong()))),
        badSignal("run id over the limit", "workflow_execution.run_id",
            b -> b.setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(TARGET).setRunId(tooLong()))),
        badSignal("missing signal name", "signal_name", b -> b.clearSignalName()),
        badSignal("signal name over the limit", "signal_name", b -> b.setSignalName(tooManyBytes())),
        badSignal("request id over the limit", "request_id", b -> b.setRequestId(tooLong())),
        badSignal("unknown workflow", Status.Code.NOT_FOUND, "workflow execution not found",
            b -> b.setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(newId("missing")))),

        invalid("PollWorkflowTaskQueue: missing namespace", "namespace",
            s -> s.pollWorkflowTaskQueue(pollWorkflowTask().clearNamespace().build())),
        notFound("PollWorkflowTaskQueue: unknown namespace", unknownNamespace,
            s -> s.pollWorkflowTaskQueue(pollWorkflowTask().setNamespace(unknownNamespace).build())),
        invalid("PollWorkflowTaskQueue: missing task queue", "task_queue",
            s -> s.pollWorkflowTaskQueue(pollWorkflowTask().clearTaskQueue().build())),
        invalid("PollWorkflowTaskQueue: task queue without name", "task_queue",
            s -> s.pollWorkflowTaskQueue(pollWorkflowTask().setTaskQueue(TaskQueue.getDefaultInstance()).build())),
        invalid("PollWorkflowTaskQueue: task queue name over the limit", "task_queue.name",
            s -> s.pollWorkflowTaskQueue(pollWorkflowTask()
                .setTaskQueue(TaskQueue.newBuilder().setName(tooManyBytes())).build())),
        invalid("PollActivityTaskQueue: missing namespace", "namespace",
            s -> s.pollActivityTaskQueue(pollActivityTask().clearNamespace().build())),
        notFound("PollActivityTaskQueue: unknown namespace", unknownNamespace,
            s -> s.pollActivityTaskQueue(pollActivityTask().setNamespace(unknownNamespace).build())),
        invalid("PollActivityTaskQueue: missing task queue", "task_queue",
            s -> s.pollActivityTaskQueue(pollActivityTask().clearTaskQueue().build())),
        invalid("PollActivityTaskQueue: task queue name over the limit", "task_queue.name",
            s -> s.pollActivityTaskQueue(pollActivityTask()
                .setTaskQueue(TaskQueue.newBuilder().setName(tooLong())).build())),

        invalid("DescribeWorkflowExecution: missing namespace", "namespace",
            s -> s.describeWorkflowExecution(describe(TARGET).clearNamespace().build())),
        notFound("DescribeWorkflowExecution: unknown namespace", unknownNamespace,
            s -> s.describeWorkflowExecution(describe(TARGET).setNamespace(unknownNamespace).build())),
        invalid("DescribeWorkflowExecution: missing execution", "execution",
            s -> s.describeWorkflowExecution(describe(TARGET).clearExecution().build())),
        invalid("DescribeWorkflowExecution: missing workflow id", "execution.workflow_id",
            s -> s.describeWorkflowExecution(describe("").build())),
        invalid("DescribeWorkflowExecution: workflow id over the limit", "execution.workflow_id",
            s -> s.describeWorkflowExecution(describe(tooManyBytes()).build())),
        notFound("DescribeWorkflowExecution: unknown workflow", "workflow execution not found",
            s -> s.describeWorkflowExecution(describe(newId("missing")).build())),
        invalid("GetWorkflowExecutionHistory: missing execution", "execution",
            s -> s.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
                .setNamespace(NAMESPACE).build())),
        invalid("UpdateActivityOptions: negative heartbeat_timeout", "activity_options.heartbeat_timeout",
            s -> s.updateActivityOptions(updateOptions(o -> o.setHeartbeatTimeout(duration(-5, 0)), "heartbeat_timeout"))),
        invalid("UpdateActivityOptions: start_to_close_timeout with nanos out of range",
            "activity_options.start_to_close_timeout",
            s -> s.updateActivityOptions(updateOptions(
                o -> o.setStartToCloseTimeout(duration(1, 1_000_000_000)), "start_to_close_timeout"))),
        invalid("UpdateActivityOptions: retry initial_interval with mixed signs",
            "activity_options.retry_policy.initial_interval",
            s -> s.updateActivityOptions(updateOptions(
                o -> o.setRetryPolicy(io.temporal.api.common.v1.RetryPolicy.newBuilder()
                    .setInitialInterval(duration(5, -1))), "retry_policy.initial_interval"))));
  }

  private static io.temporal.api.workflowservice.v1.UpdateActivityOptionsRequest updateOptions(
      UnaryOperator<io.temporal.api.activity.v1.ActivityOptions.Builder> options, String path) {
    return io.temporal.api.workflowservice.v1.UpdateActivityOptionsRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(TARGET))
        .setId("any-activity")
        .setActivityOptions(options.apply(io.temporal.api.activity.v1.ActivityOptions.newBuilder()))
        .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addPaths(path))
        .build();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("malformedRequests")
  void aMalformedRequestIsRejectedAndChangesNothing(Rejected c) {
    assertRejectedWithoutChange(c);
  }

  private static void assertRejectedWithoutChange(Rejected c) {
    long executions = executionCount();
    long targetLength = historyLength(TARGET);

    assertStatus(() -> c.call().accept(stub), c.code(), c.messagePart());

    assertThat(executionCount()).as("executions in the namespace").isEqualTo(executions);
    assertThat(historyLength(TARGET)).as("history length of the running workflow").isEqualTo(targetLength);
    if (c.triedWorkflowId() != null) {
      assertStatus(() -> describeExecution(c.triedWorkflowId()), Status.Code.NOT_FOUND, c.triedWorkflowId());
    }
  }

  // ---- task tokens ----------------------------------------------------------------------------

  /** Sends a task token, in a request of the given namespace. */
  @FunctionalInterface
  private interface TokenCall {
    void send(WorkflowServiceBlockingStub stub, String namespace, ByteString token);
  }

  /** An RPC that takes a task token, and the kind of token it wants. */
  private record TokenRpc(String name, TaskToken.Kind kind, TokenCall call) {}

  private static final List<TokenRpc> TOKEN_RPCS = List.of(
      new TokenRpc("RespondWorkflowTaskCompleted", TaskToken.Kind.WORKFLOW_TASK,
          (s, namespace, token) -> s.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token).setIdentity("bad-input-test").build())),
      new TokenRpc("RespondWorkflowTaskFailed", TaskToken.Kind.WORKFLOW_TASK,
          (s, namespace, token) -> s.respondWorkflowTaskFailed(RespondWorkflowTaskFailedRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token)
              .setCause(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE)
              .setFailure(Failure.newBuilder().setMessage("boom")).build())),
      new TokenRpc("RespondActivityTaskCompleted", TaskToken.Kind.ACTIVITY_TASK,
          (s, namespace, token) -> s.respondActivityTaskCompleted(RespondActivityTaskCompletedRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token).build())),
      new TokenRpc("RespondActivityTaskFailed", TaskToken.Kind.ACTIVITY_TASK,
          (s, namespace, token) -> s.respondActivityTaskFailed(RespondActivityTaskFailedRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token)
              .setFailure(Failure.newBuilder().setMessage("boom")).build())),
      new TokenRpc("RespondActivityTaskCanceled", TaskToken.Kind.ACTIVITY_TASK,
          (s, namespace, token) -> s.respondActivityTaskCanceled(RespondActivityTaskCanceledRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token).build())),
      new TokenRpc("RecordActivityTaskHeartbeat", TaskToken.Kind.ACTIVITY_TASK,
          (s, namespace, token) -> s.recordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest.newBuilder()
              .setNamespace(namespace).setTaskToken(token).build())));

  private static ByteString token(TaskToken.Kind kind, String namespace, String workflowId, String runId, long scheduledEventId) {
    return ByteString.copyFrom(new TaskToken(kind, namespace, workflowId, runId, scheduledEventId,
        kind == TaskToken.Kind.WORKFLOW_TASK ? scheduledEventId + 1 : 0, 1, "").encode());
  }

  static Stream<Named<Rejected>> badTaskTokens() {
    byte[] garbage = new byte[48];
    new Random(42).nextBytes(garbage);
    String unknownNamespace = newId("no-such-namespace");
    List<Named<Rejected>> cases = new ArrayList<>();
    for (TokenRpc rpc : TOKEN_RPCS) {
      TaskToken.Kind other =
          rpc.kind() == TaskToken.Kind.WORKFLOW_TASK ? TaskToken.Kind.ACTIVITY_TASK : TaskToken.Kind.WORKFLOW_TASK;
      byte[] valid = token(rpc.kind(), NAMESPACE, newId("missing"), UUID.randomUUID().toString(), 5).toByteArray();
      byte[] trailing = Arrays.copyOf(valid, valid.length + 3);
      ByteString unknownWorkflow = token(rpc.kind(), NAMESPACE, newId("missing"), UUID.randomUUID().toString(), 5);
      ByteString unknownTask = token(rpc.kind(), NAMESPACE, TARGET, targetRunId, 999);
      ByteString otherNamespace = token(rpc.kind(), unknownNamespace, newId("missing"), "", 5);
      // Temporal's wording for a stale activity token names the activity rather than "not found".
      String notFound = rpc.kind() == TaskToken.Kind.WORKFLOW_TASK ? "not found" : "invalid activityID";
      cases.add(tokenCase(rpc, "empty token", Status.Code.INVALID_ARGUMENT, "task_token is not set", ByteString.EMPTY));
      cases.add(tokenCase(rpc, "garbage token", Status.Code.INVALID_ARGUMENT, "task_token is malformed",
          ByteString.copyFrom(garbage)));
      cases.add(tokenCase(rpc, "truncated token", Status.Code.INVALID_ARGUMENT, "task_token is malformed",
          ByteString.copyFrom(valid, 0, valid.length / 2)));
      cases.add(tokenCase(rpc, "token with trailing bytes", Status.Code.INVALID_ARGUMENT, "task_token is malformed",
          ByteString.copyFrom(trailing)));
      cases.add(tokenCase(rpc, "token of the other kind", Status.Code.INVALID_ARGUMENT, "task_token",
          token(other, NAMESPACE, TARGET, targetRunId, 2)));
      cases.add(tokenCase(rpc, "token of another namespace than the request's", Status.Code.INVALID_ARGUMENT,
          "task_token belongs to namespace " + unknownNamespace, otherNamespace));
      cases.add(Named.of(rpc.name() + ": token of a namespace that does not exist", new Rejected(
          Status.Code.NOT_FOUND, unknownNamespace, null, s -> rpc.call().send(s, unknownNamespace, otherNamespace))));
      cases.add(tokenCase(rpc, "token of a workflow that does not exist", Status.Code.NOT_FOUND, notFound,
          unknownWorkflow));
      cases.add(tokenCase(rpc, "token of a task the running workflow never had", Status.Code.NOT_FOUND, notFound,
          unknownTask));
    }
    ByteString unknownWorkflowTask = token(TaskToken.Kind.WORKFLOW_TASK, NAMESPACE, TARGET, targetRunId, 999);
    cases.add(invalid("RespondWorkflowTaskCompleted: sticky schedule_to_start_timeout with nanos out of range",
        "sticky_attributes.schedule_to_start_timeout",
        s -> s.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace(NAMESPACE).setTaskToken(unknownWorkflowTask)
            .setStickyAttributes(StickyExecutionAttributes.newBuilder()
                .setWorkerTaskQueue(TaskQueue.newBuilder().setName(newId("sticky")))
                .setScheduleToStartTimeout(duration(1, 2_000_000_000)))
            .build())));
    cases.add(invalid("RespondActivityTaskFailed: missing failure", "failure",
        s -> s.respondActivityTaskFailed(RespondActivityTaskFailedRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setTaskToken(token(TaskToken.Kind.ACTIVITY_TASK, NAMESPACE, TARGET, targetRunId, 999)).build())));
    return cases.stream();
  }

  private static Named<Rejected> tokenCase(TokenRpc rpc, String name, Status.Code code, String part, ByteString token) {
    return Named.of(rpc.name() + ": " + name, new Rejected(code, part, null, s -> rpc.call().send(s, NAMESPACE, token)));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badTaskTokens")
  void aBadTaskTokenIsRejectedAndChangesNothing(Rejected c) {
    assertRejectedWithoutChange(c);
  }

  // ---- bad commands ---------------------------------------------------------------------------

  /**
   * A workflow task completion whose commands are invalid.
   *
   * @param field what the error and the failure in WorkflowTaskFailed must name
   */
  record BadCompletion(List<Command> commands, WorkflowTaskFailedCause cause, String field) {}

  private static Named<BadCompletion> badCompletion(
      String name, WorkflowTaskFailedCause cause, String field, Command... commands) {
    return Named.of(name, new BadCompletion(List.of(commands), cause, field));
  }

  private static Command requestCancelActivity(long scheduledEventId) {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK)
        .setRequestCancelActivityTaskCommandAttributes(
            RequestCancelActivityTaskCommandAttributes.newBuilder().setScheduledEventId(scheduledEventId))
        .build();
  }

  private static Command startTimer(String timerId, Duration fireIn) {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_START_TIMER)
        .setStartTimerCommandAttributes(
            StartTimerCommandAttributes.newBuilder().setTimerId(timerId).setStartToFireTimeout(fireIn))
        .build();
  }

  private static Command cancelTimer(String timerId) {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_CANCEL_TIMER)
        .setCancelTimerCommandAttributes(CancelTimerCommandAttributes.newBuilder().setTimerId(timerId))
        .build();
  }

  /** A valid activity of the workflow's own task queue, for the cases to break. */
  private static ScheduleActivityTaskCommandAttributes.Builder activity() {
    return ScheduleActivityTaskCommandAttributes.newBuilder()
        .setActivityId(newId("activity"))
        .setActivityType(ActivityType.newBuilder().setName("BadInputActivity"))
        .setStartToCloseTimeout(Durations.fromSeconds(10));
  }

  private static Command scheduleActivity(ScheduleActivityTaskCommandAttributes.Builder attributes) {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
        .setScheduleActivityTaskCommandAttributes(attributes)
        .build();
  }

  static Stream<Named<BadCompletion>> badCommands() {
    var badCancelActivity = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES;
    var badCancelTimer = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES;
    var badStartTimer = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES;
    var badActivity = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES;
    String duplicateActivity = newId("activity");
    return Stream.of(
        badCompletion("RequestCancelActivityTask of an activity that was never scheduled", badCancelActivity,
            "scheduled_event_id", requestCancelActivity(99)),
        badCompletion("RequestCancelActivityTask of an event that is not an activity", badCancelActivity,
            "scheduled_event_id", requestCancelActivity(1)),
        badCompletion("RequestCancelActivityTask without scheduled_event_id", badCancelActivity,
            "scheduled_event_id", requestCancelActivity(0)),
        badCompletion("CancelTimer of a timer that was never started", badCancelTimer, "timer_id",
            cancelTimer(newId("timer"))),
        badCompletion("CancelTimer without timer_id", badCancelTimer, "timer_id", cancelTimer("")),
        badCompletion("CancelTimer of an unknown timer after a valid StartTimer", badCancelTimer, "timer_id",
            startTimer("t1", Durations.fromSeconds(60)), cancelTimer("t2")),
        badCompletion("StartTimer without timer_id", badStartTimer, "timer_id",
            startTimer("", Durations.fromSeconds(60))),
        badCompletion("StartTimer with negative start_to_fire_timeout", badStartTimer, "start_to_fire_timeout",
            startTimer("t1", duration(-5, 0))),
        badCompletion("StartTimer with start_to_fire_timeout nanos out of range", badStartTimer,
            "start_to_fire_timeout", startTimer("t1", duration(1, 1_000_000_000))),
        badCompletion("StartTimer twice with the same timer_id",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, "timer_id",
            startTimer("t1", Durations.fromSeconds(60)), startTimer("t1", Durations.fromSeconds(60))),
        badCompletion("ScheduleActivityTask without activity_id", badActivity, "activity_id",
            scheduleActivity(activity().clearActivityId())),
        badCompletion("ScheduleActivityTask with activity_id over the limit", badActivity, "activity_id",
            scheduleActivity(activity().setActivityId(tooManyBytes()))),
        badCompletion("ScheduleActivityTask without activity_type", badActivity, "activity_type",
            scheduleActivity(activity().clearActivityType())),
        badCompletion("ScheduleActivityTask with activity_type over the limit", badActivity, "activity_type.name",
            scheduleActivity(activity().setActivityType(ActivityType.newBuilder().setName(tooManyBytes())))),
        badCompletion("ScheduleActivityTask with task queue name over the limit", badActivity, "task_queue.name",
            scheduleActivity(activity().setTaskQueue(TaskQueue.newBuilder().setName(tooManyBytes())))),
        badCompletion("ScheduleActivityTask without start_to_close or schedule_to_close timeout", badActivity,
            "start_to_close_timeout", scheduleActivity(activity().clearStartToCloseTimeout())),
        badCompletion("ScheduleActivityTask with negative start_to_close_timeout", badActivity,
            "start_to_close_timeout", scheduleActivity(activity().setStartToCloseTimeout(duration(-5, 0)))),
        badCompletion("ScheduleActivityTask with negative heartbeat_timeout", badActivity, "heartbeat_timeout",
            scheduleActivity(activity().setHeartbeatTimeout(duration(-5, 0)))),
        badCompletion("ScheduleActivityTask with schedule_to_close_timeout nanos out of range", badActivity,
            "schedule_to_close_timeout",
            scheduleActivity(activity().setScheduleToCloseTimeout(duration(3, 1_500_000_000)))),
        badCompletion("ScheduleActivityTask with retry_policy.initial_interval nanos out of range", badActivity,
            "retry_policy.initial_interval",
            scheduleActivity(activity().setRetryPolicy(RetryPolicy.newBuilder()
                .setInitialInterval(duration(1, -5))))),
        badCompletion("ScheduleActivityTask with priority_key above 5", badActivity, "priority.priority_key",
            scheduleActivity(activity().setPriority(Priority.newBuilder().setPriorityKey(6)))),
        badCompletion("ScheduleActivityTask with negative fairness_weight", badActivity, "priority.fairness_weight",
            scheduleActivity(activity().setPriority(Priority.newBuilder().setFairnessWeight(-1)))),
        badCompletion("ScheduleActivityTask twice with the same activity_id",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID, "activity_id",
            scheduleActivity(activity().setActivityId(duplicateActivity)),
            scheduleActivity(activity().setActivityId(duplicateActivity))),
        badCompletion("RecordMarker without marker_name",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "marker_name",
            Command.newBuilder()
                .setCommandType(CommandType.COMMAND_TYPE_RECORD_MARKER)
                .setRecordMarkerCommandAttributes(RecordMarkerCommandAttributes.getDefaultInstance())
                .build()),
        badCompletion("ContinueAsNew with negative workflow_run_timeout",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "workflow_run_timeout",
            Command.newBuilder()
                .setCommandType(CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
                .setContinueAsNewWorkflowExecutionCommandAttributes(
                    ContinueAsNewWorkflowExecutionCommandAttributes.newBuilder()
                        .setWorkflowRunTimeout(duration(-5, 0)))
                .build()),
        badCompletion("ContinueAsNew with retry_policy.backoff_coefficient below 1",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
            "retry_policy.backoff_coefficient",
            Command.newBuilder()
                .setCommandType(CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
                .setContinueAsNewWorkflowExecutionCommandAttributes(
                    ContinueAsNewWorkflowExecutionCommandAttributes.newBuilder()
                        .setRetryPolicy(RetryPolicy.newBuilder().setBackoffCoefficient(0.5)))
                .build()),
        badCompletion("StartChildWorkflowExecution with negative retry_policy.maximum_attempts",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
            "retry_policy.maximum_attempts",
            Command.newBuilder()
                .setCommandType(CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION)
                .setStartChildWorkflowExecutionCommandAttributes(
                    io.temporal.api.command.v1.StartChildWorkflowExecutionCommandAttributes.newBuilder()
                        .setWorkflowId(newId("child"))
                        .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName("Child"))
                        .setRetryPolicy(RetryPolicy.newBuilder().setMaximumAttempts(-2)))
                .build()),
        badCompletion("ContinueAsNew with negative backoff_start_interval",
            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
            "backoff_start_interval",
            Command.newBuilder()
                .setCommandType(CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
                .setContinueAsNewWorkflowExecutionCommandAttributes(
                    ContinueAsNewWorkflowExecutionCommandAttributes.newBuilder()
                        .setBackoffStartInterval(duration(-5, 0)))
                .build()));
  }

  private static PollWorkflowTaskQueueResponse pollWorkflowTask(String queue) {
    PollWorkflowTaskQueueResponse task = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
        .pollWorkflowTaskQueue(pollWorkflowTask().setTaskQueue(TaskQueue.newBuilder().setName(queue)).build());
    assertThat(task.getTaskToken()).as("a workflow task was delivered").isNotEmpty();
    return task;
  }

  private static List<EventType> types(List<HistoryEvent> events) {
    return events.stream().map(HistoryEvent::getEventType).toList();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badCommands")
  void aBadCommandFailsTheWorkflowTaskAndTheWorkflowKeepsRunning(BadCompletion c) {
    String queue = newId("queue");
    String workflowId = newId("wf");
    stub.startWorkflowExecution(start(workflowId).setTaskQueue(TaskQueue.newBuilder().setName(queue)).build());
    PollWorkflowTaskQueueResponse task = pollWorkflowTask(queue);
    long executions = executionCount();

    assertStatus(() -> stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setTaskToken(task.getTaskToken())
            .setIdentity("bad-input-test")
            .addAllCommands(c.commands())
            .build()),
        Status.Code.INVALID_ARGUMENT, c.field());

    // Nothing of the completion landed: right after the started event the task failed and the
    // next attempt was scheduled.
    List<HistoryEvent> events = history(workflowId);
    List<HistoryEvent> after = events.subList((int) task.getStartedEventId(), events.size());
    assertThat(types(after)).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    var failed = after.get(0).getWorkflowTaskFailedEventAttributes();
    assertThat(failed.getCause()).isEqualTo(c.cause());
    assertThat(failed.getStartedEventId()).isEqualTo(task.getStartedEventId());
    assertThat(failed.getFailure().getMessage()).contains(c.field());
    assertThat(describeExecution(workflowId).getWorkflowExecutionInfo().getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assertThat(executionCount()).as("no run was started").isEqualTo(executions);

    PollWorkflowTaskQueueResponse retry = pollWorkflowTask(queue);
    assertThat(retry.getAttempt()).isEqualTo(2);
  }

  // ---- the limits themselves ------------------------------------------------------------------

  /** The limits are inclusive: a value of exactly the limit is accepted everywhere it applies. */
  @Test
  void valuesOfExactlyTheLimitAreAccepted() {
    String atLimit = "é".repeat(LIMIT / 2);
    assertThat(atLimit.getBytes(StandardCharsets.UTF_8)).hasSize(LIMIT);
    long executions = executionCount();

    stub.startWorkflowExecution(start(atLimit)
        .setWorkflowType(WorkflowType.newBuilder().setName(atLimit))
        .setTaskQueue(TaskQueue.newBuilder().setName(atLimit))
        .setRequestId(atLimit)
        .setPriority(Priority.newBuilder().setPriorityKey(5).setFairnessKey("k".repeat(64)).setFairnessWeight(0))
        .build());
    stub.signalWorkflowExecution(signal()
        .setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(atLimit))
        .setSignalName(atLimit)
        .setRequestId(atLimit)
        .build());

    assertThat(executionCount()).isEqualTo(executions + 1);
    assertThat(types(history(atLimit))).contains(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  }

  /** The server makes up a request id when the client sends none, as Temporal does. */
  @Test
  void aStartWithoutRequestIdIsAccepted() {
    String workflowId = newId("wf");
    String runId = stub.startWorkflowExecution(start(workflowId).clearRequestId().build()).getRunId();

    assertThat(describeExecution(workflowId).getWorkflowExecutionInfo().getExecution().getRunId())
        .isEqualTo(runId);
  }

  /** An activity without a task queue runs on the workflow's, as in Temporal; that is no bad command. */
  @Test
  void anActivityWithoutTaskQueueIsScheduledOnTheWorkflowQueue() {
    String queue = newId("queue");
    String workflowId = newId("wf");
    stub.startWorkflowExecution(start(workflowId).setTaskQueue(TaskQueue.newBuilder().setName(queue)).build());
    PollWorkflowTaskQueueResponse task = pollWorkflowTask(queue);

    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(task.getTaskToken())
        .addCommands(scheduleActivity(activity().clearTaskQueue()))
        .build());

    HistoryEvent scheduled = history(workflowId).stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .findFirst().orElseThrow();
    assertThat(scheduled.getActivityTaskScheduledEventAttributes().getTaskQueue().getName()).isEqualTo(queue);
  }
}
