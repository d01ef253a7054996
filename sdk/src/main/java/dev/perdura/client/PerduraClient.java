package dev.perdura.client;

import dev.perdura.converter.PayloadConverter;
import dev.perdura.internal.Protos;
import dev.perdura.internal.grpc.Calls;
import dev.perdura.internal.grpc.ClientAccess;
import dev.perdura.internal.grpc.ServiceConnection;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse;
import dev.perdura.internal.workflow.EagerWorkflows;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * A connection to a Perdura (or Temporal) server for one namespace: start workflows and reach
 * running ones, and complete activities from outside the worker that ran them.
 *
 * <pre>{@code
 * try (PerduraClient client = PerduraClient.connect(ClientOptions.target("127.0.0.1:7233"))) {
 *   WorkflowHandle order = client.startWorkflow("OrderWorkflow",
 *       StartWorkflowOptions.of("order-42", "orders"), "order-42");
 *   String receipt = order.result(String.class);
 * }
 * }</pre>
 *
 * <p>Thread-safe; make one per process and share it. Calls block the calling thread (cheap on
 * virtual threads); transient server unavailability is retried with backoff, other refusals are
 * {@link ServiceException}s.
 */
public final class PerduraClient implements AutoCloseable {
  private final ClientOptions options;
  private final ServiceConnection connection;

  private PerduraClient(ClientOptions options) {
    this.options = options;
    this.connection = new ServiceConnection(options.target());
  }

  /** Opens the connection; the first call contacts the server. */
  public static PerduraClient connect(ClientOptions options) {
    return new PerduraClient(options);
  }

  public ClientOptions options() {
    return options;
  }

  public String namespace() {
    return options.namespace();
  }

  public PayloadConverter payloadConverter() {
    return options.payloadConverter();
  }

  /**
   * Starts a run of the workflow type with the arguments, encoded with the payload converter.
   *
   * @throws WorkflowAlreadyStartedException a run with this workflow id is open
   */
  public WorkflowHandle startWorkflow(String workflowType, StartWorkflowOptions start, Object... args) {
    StartWorkflowExecutionRequest.Builder request = StartWorkflowExecutionRequest.newBuilder()
        .setNamespace(options.namespace())
        .setWorkflowId(start.workflowId())
        .setWorkflowType(WorkflowType.newBuilder().setName(workflowType))
        .setTaskQueue(TaskQueue.newBuilder().setName(start.taskQueue()))
        .setIdentity(options.identity())
        .setRequestId(UUID.randomUUID().toString())
        .setInput(Protos.encode(options.payloadConverter(), Arrays.asList(args)))
        .setPriority(Protos.toProto(start.priority()));
    if (start.executionTimeout() != null) {
      request.setWorkflowExecutionTimeout(Protos.toProto(start.executionTimeout()));
    }
    if (start.runTimeout() != null) {
      request.setWorkflowRunTimeout(Protos.toProto(start.runTimeout()));
    }
    if (start.taskTimeout() != null) {
      request.setWorkflowTaskTimeout(Protos.toProto(start.taskTimeout()));
    }
    if (start.retryPolicy() != null) {
      request.setRetryPolicy(Protos.toProto(start.retryPolicy()));
    }
    Optional<EagerWorkflows.Reservation> eager =
        connection.eagerWorkflows().reserve(start.taskQueue(), workflowType);
    request.setRequestEagerExecution(eager.isPresent());
    StartWorkflowExecutionResponse response;
    try {
      response = Calls.call(() -> connection.call().startWorkflowExecution(request.build()));
    } catch (RuntimeException e) {
      eager.ifPresent(r -> r.complete(Optional.empty()));
      throw e;
    }
    eager.ifPresent(r -> r.complete(response.hasEagerWorkflowTask()
        ? Optional.of(response.getEagerWorkflowTask()) : Optional.empty()));
    return new WorkflowHandle(this, start.workflowId(), response.getRunId());
  }

  /** Starts a run and waits for its result. */
  public <R> R executeWorkflow(String workflowType, Class<R> resultType, StartWorkflowOptions start, Object... args) {
    return startWorkflow(workflowType, start, args).result(resultType);
  }

  /** The workflow id's current run, whichever it is when each call is made. */
  public WorkflowHandle workflowHandle(String workflowId) {
    return new WorkflowHandle(this, workflowId, "");
  }

  public WorkflowHandle workflowHandle(String workflowId, String runId) {
    return new WorkflowHandle(this, workflowId, runId);
  }

  /** Completes, fails, heartbeats or cancels an activity named by the task token its worker got. */
  public ActivityCompletionHandle activityHandle(byte[] taskToken) {
    if (taskToken == null || taskToken.length == 0) {
      throw new IllegalArgumentException("taskToken must not be empty");
    }
    return new ActivityCompletionHandle(this, taskToken.clone(), null, null, null);
  }

  /** The same by ids; an empty run id means the workflow id's current run. */
  public ActivityCompletionHandle activityHandle(String workflowId, String runId, String activityId) {
    if (workflowId == null || workflowId.isBlank() || activityId == null || activityId.isBlank()) {
      throw new IllegalArgumentException("workflowId and activityId must not be blank");
    }
    return new ActivityCompletionHandle(this, null, workflowId, runId == null ? "" : runId, activityId);
  }

  static {
    ClientAccess.register(client -> client.connection);
  }

  ServiceConnection connection() {
    return connection;
  }

  @Override
  public void close() {
    connection.close();
  }

  @Override
  public String toString() {
    return "PerduraClient[" + options.target() + ", namespace " + options.namespace() + "]";
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 16));
  }
}
