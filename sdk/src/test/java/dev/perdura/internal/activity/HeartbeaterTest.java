package dev.perdura.internal.activity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.common.Priority;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.internal.Protos;
import dev.perdura.internal.grpc.ServiceConnection;
import dev.perdura.metrics.MetricMeter;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatRequest;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Heartbeat throttling and the server's answers, against an in-process fake of the service. */
class HeartbeaterTest {
  private final List<Object> received = new CopyOnWriteArrayList<>();
  private final AtomicBoolean answerCancel = new AtomicBoolean();
  private Server server;
  private ServiceConnection connection;
  private ScheduledExecutorService scheduler;

  @BeforeEach
  void start() throws Exception {
    String name = "heartbeats-" + UUID.randomUUID();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new WorkflowServiceGrpc.WorkflowServiceImplBase() {
          @Override
          public void recordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest request,
              StreamObserver<RecordActivityTaskHeartbeatResponse> observer) {
            received.add(PayloadConverter.defaultConverter()
                .fromPayload(Protos.fromProto(request.getDetails().getPayloads(0))));
            observer.onNext(RecordActivityTaskHeartbeatResponse.newBuilder()
                .setCancelRequested(answerCancel.get()).build());
            observer.onCompleted();
          }
        })
        .build().start();
    connection = new ServiceConnection(InProcessChannelBuilder.forName(name).directExecutor().build());
    scheduler = Executors.newSingleThreadScheduledExecutor();
  }

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
    connection.close();
    server.shutdownNow();
  }

  private ActivityExecution execution(Duration heartbeatTimeout) {
    Instant now = Instant.now();
    ActivityInfo info = new ActivityInfo("a-1", "work", 1, now, List.of(), Optional.of(heartbeatTimeout), false,
        Optional.empty(), now, Optional.empty(), now, "q", new byte[] {1}, "default", Optional.of("wf"),
        Optional.of("run"), Optional.of("Wf"), Priority.DEFAULT, Optional.empty());
    return new ActivityExecution(info, null, false, null, PayloadConverter.defaultConverter(), "test",
        new WorkerShutdownSignal(), MetricMeter.noop(),
        e -> new Heartbeater(e, connection, scheduler, heartbeatTimeout));
  }

  @Test
  void manyHeartbeatsWithinAnIntervalSendTheFirstAtOnceAndTheLastWhenItEnds() {
    ActivityExecution execution = execution(Duration.ofSeconds(1)); // interval 800 ms
    for (int i = 1; i <= 50; i++) {
      execution.heartbeat(i);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> received.contains(50));
    // One interval normally covers all 50 calls; a very slow machine may need a second.
    assertThat(received).startsWith(1).endsWith(50).hasSizeLessThanOrEqualTo(3);
  }

  @Test
  void aCancelRequestInTheAnswerCancelsTheActivityOnce() {
    answerCancel.set(true);
    ActivityExecution execution = execution(Duration.ofSeconds(10));
    execution.heartbeat("first");
    await().atMost(Duration.ofSeconds(10)).until(execution::isCancelled);
    assertThat(execution.cancellationDetails().reason()).isEqualTo(Reason.CANCEL_REQUESTED);
    assertThat(execution.cancel(Reason.TIMED_OUT)).isFalse();
    assertThat(execution.cancellationDetails().reason()).isEqualTo(Reason.CANCEL_REQUESTED);
  }
}
