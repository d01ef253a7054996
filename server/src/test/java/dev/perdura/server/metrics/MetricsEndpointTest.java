package dev.perdura.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server asked to serve metrics answers GET /metrics in the Prometheus text format. */
class MetricsEndpointTest {
  @TempDir Path dir;
  private PerduraServer server;
  private ManagedChannel channel;
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
    http.close();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + server.metricsPort().orElseThrow() + path);
    return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the first sample whose line starts with {@code series} (name and labels, in order). */
  private static double sample(String body, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "[^ ]* ([0-9.eE+-]+)$").matcher(body);
    assertThat(m.find()).as("a sample of %s in%n%s", series, body).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void callsCommitsTasksAndTheJvmShowUp() throws Exception {
    server = PerduraServer.start(
        new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()).withMetricsPort(0));
    channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    var stub = WorkflowServiceGrpc.newBlockingStub(channel);
    String queue = "metrics-" + UUID.randomUUID();
    stub.startWorkflowExecution(StartWorkflowExecutionRequest.newBuilder()
        .setNamespace("default")
        .setWorkflowId("wf-" + UUID.randomUUID())
        .setWorkflowType(WorkflowType.newBuilder().setName("Metered"))
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setRequestId(UUID.randomUUID().toString())
        .build());
    assertThatThrownBy(() -> stub.startWorkflowExecution(StartWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").build())).isInstanceOf(StatusRuntimeException.class);
    stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace("default").setTaskQueue(TaskQueue.newBuilder().setName(queue)).setIdentity("metered").build());

    HttpResponse<String> response = get("/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    String body = response.body();
    assertThat(sample(body, "perdura_rpc_requests_seconds_count{method=\"StartWorkflowExecution\",status=\"OK\"")).isEqualTo(1);
    assertThat(sample(body, "perdura_rpc_requests_seconds_count{method=\"StartWorkflowExecution\",status=\"INVALID_ARGUMENT\""))
        .isEqualTo(1);
    assertThat(sample(body, "perdura_rpc_requests_seconds_count{method=\"PollWorkflowTaskQueue\",status=\"OK\"")).isEqualTo(1);
    // The start is written; the polled task's start is held back until the run's next change.
    assertThat(sample(body, "perdura_history_commit_seconds_count{shard=\"0\"")).isEqualTo(1);
    assertThat(sample(body, "perdura_history_changes_held_back_total{shard=\"0\"")).isEqualTo(1);
    double batches = sample(body, "perdura_history_batch_changes_count{shard=\"0\"");
    assertThat(batches).isGreaterThanOrEqualTo(2);
    // One call after the other: every batch had one change, and the buckets say so.
    assertThat(sample(body, "perdura_history_batch_changes_bucket{shard=\"0\",le=\"1.0\"")).isEqualTo(batches);
    assertThat(sample(body, "perdura_tasks_total{kind=\"workflow\",path=\"queued\"")).isEqualTo(1);
    assertThat(sample(body, "perdura_matching_backlog")).isZero();
    assertThat(sample(body, "perdura_timers_pending")).as("the started task's timeout").isEqualTo(1);
    assertThat(sample(body, "perdura_cluster_shards_owned")).as("alone on its store, it owns the one shard").isEqualTo(1);
    assertThat(sample(body, "jvm_memory_used_bytes")).isPositive();
    assertThat(get("/other").statusCode()).isEqualTo(404);
  }

  @Test
  void noEndpointUnlessAskedAndAPortInUseFailsTheStart() throws IOException {
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("a.db"), List.of()));
    assertThat(server.metricsPort()).isEmpty();
    server.close();
    server = null;

    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("b.db"), List.of())
          .withMetricsPort(taken.getLocalPort())))
          .hasMessageContaining("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort());
    }
    // Nothing of the failed start is left listening or holding the file: a new server opens it.
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("b.db"), List.of()));
  }
}
