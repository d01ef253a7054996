package dev.perdura.internal.grpc;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The channel to a server and the stubs over it. Transient failures (UNAVAILABLE) are retried by
 * gRPC itself, with exponential backoff, per the service config below, until the call's deadline:
 * long enough to ride out a server restart or, on PostgreSQL, another server taking over from a
 * crashed one (its lease, 10 s by default). Every call has a deadline.
 */
public final class ServiceConnection implements AutoCloseable {
  /** Longer than the server's one-minute long poll, so the server answers first. */
  public static final Duration LONG_POLL_DEADLINE = Duration.ofSeconds(75);
  public static final Duration CALL_DEADLINE = Duration.ofSeconds(20);
  /** With backoffs of at most 2 s, enough attempts to keep trying until an ordinary call's deadline. */
  private static final int MAX_ATTEMPTS = 25;

  private final ManagedChannel channel;
  private final WorkflowServiceGrpc.WorkflowServiceBlockingStub stub;
  private final dev.perdura.internal.workflow.EagerWorkflows eagerWorkflows =
      new dev.perdura.internal.workflow.EagerWorkflows();

  public ServiceConnection(String target) {
    this(ManagedChannelBuilder.forTarget(target)
        .usePlaintext()
        .enableRetry()
        .maxRetryAttempts(MAX_ATTEMPTS)
        .defaultServiceConfig(retryConfig())
        .maxInboundMessageSize(128 * 1024 * 1024)
        .build());
  }

  /** Over a channel built elsewhere (tests use an in-process one); the connection owns and closes it. */
  public ServiceConnection(ManagedChannel channel) {
    this.channel = channel;
    this.stub = WorkflowServiceGrpc.newBlockingStub(channel);
  }

  private static Map<String, Object> retryConfig() {
    Map<String, Object> retryPolicy = Map.of(
        "maxAttempts", (double) MAX_ATTEMPTS,
        "initialBackoff", "0.1s",
        "maxBackoff", "2s",
        "backoffMultiplier", 2.0,
        "retryableStatusCodes", List.of("UNAVAILABLE"));
    Map<String, Object> methodConfig = Map.of(
        "name", List.of(Map.of("service", WorkflowServiceGrpc.SERVICE_NAME)),
        "retryPolicy", retryPolicy);
    // Not retried here: task polls (the worker's poll loop backs off itself, and says so in its log)
    // and the best-effort ShutdownWorker (a worker stopping must not wait for a server that is gone).
    Map<String, Object> polls = Map.of("name", List.of(
        Map.of("service", WorkflowServiceGrpc.SERVICE_NAME, "method", "PollWorkflowTaskQueue"),
        Map.of("service", WorkflowServiceGrpc.SERVICE_NAME, "method", "PollActivityTaskQueue"),
        Map.of("service", WorkflowServiceGrpc.SERVICE_NAME, "method", "ShutdownWorker")));
    return Map.of("methodConfig", List.of(methodConfig, polls));
  }

  /** The workers on this connection that take the first task of the runs it starts. */
  public dev.perdura.internal.workflow.EagerWorkflows eagerWorkflows() {
    return eagerWorkflows;
  }

  /** A stub for an ordinary call. */
  public WorkflowServiceGrpc.WorkflowServiceBlockingStub call() {
    return stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A stub for a long poll. */
  public WorkflowServiceGrpc.WorkflowServiceBlockingStub longPoll() {
    return stub.withDeadlineAfter(LONG_POLL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
