package dev.perdura.server.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Handlers that block (here: long polls waiting for a task) run on threads of their own, never on
 * the network threads that read every call of their connection.
 */
class BlockedHandlersTest {
  @TempDir Path dir;

  @Test
  void callsOnAConnectionAreAnsweredWhileManyLongPollsOnItWait() throws Exception {
    try (PerduraServer server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("p.db"), List.of()))) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        // More waiting polls than the machine has network threads, all on this one connection.
        int polls = Runtime.getRuntime().availableProcessors() * 4 + 8;
        AtomicInteger ended = new AtomicInteger();
        WorkflowServiceGrpc.WorkflowServiceStub async = WorkflowServiceGrpc.newStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS);
        String queue = "blocked-handlers-" + UUID.randomUUID();
        for (int i = 0; i < polls; i++) {
          async.pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest.newBuilder()
              .setNamespace("default")
              .setTaskQueue(TaskQueue.newBuilder().setName(queue))
              .setIdentity("poller-" + i)
              .build(), new StreamObserver<PollWorkflowTaskQueueResponse>() {
                @Override
                public void onNext(PollWorkflowTaskQueueResponse value) {}

                @Override
                public void onError(Throwable t) {
                  ended.incrementAndGet();
                }

                @Override
                public void onCompleted() {
                  ended.incrementAndGet();
                }
              });
        }
        WorkflowServiceGrpc.WorkflowServiceBlockingStub blocking = WorkflowServiceGrpc.newBlockingStub(channel);
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> blocking
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .describeTaskQueue(DescribeTaskQueueRequest.newBuilder()
                .setNamespace("default")
                .setTaskQueue(TaskQueue.newBuilder().setName(queue))
                .build())
            .getPollersCount() >= polls);

        GetSystemInfoResponse info = blocking
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());

        assertThat(info.getServerVersion()).isNotEmpty();
        assertThat(ended).as("the polls are still waiting").hasValue(0);
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
