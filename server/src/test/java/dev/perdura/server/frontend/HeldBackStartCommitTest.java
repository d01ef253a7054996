package dev.perdura.server.frontend;

import static dev.perdura.server.frontend.DirectCalls.call;
import static dev.perdura.server.frontend.FrontendOverStore.startRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.StoreException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A workflow task's start taken from a queue costs no commit: the run's next write carries it, and
 * a batch whose commit fails leaves it held back for the next try.
 */
class HeldBackStartCommitTest {
  private static final String NAMESPACE = "default";

  private final AtomicInteger commits = new AtomicInteger();
  private final AtomicBoolean failNextCommit = new AtomicBoolean();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final FrontendOverStore engine = new FrontendOverStore(NAMESPACE, metrics, Runnable::run, writes -> {
    if (failNextCommit.getAndSet(false)) {
      throw new StoreException("injected commit failure", null);
    }
    commits.incrementAndGet();
  });

  @AfterEach
  void stop() {
    engine.close();
  }

  private List<Long> storedEventIds(ExecutionKey run) {
    return engine.real.readEvents(run, 1, 1000).stream().map(EventRow::eventId).toList();
  }

  private RespondWorkflowTaskCompletedRequest completion(PollWorkflowTaskQueueResponse task) {
    return RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(task.getTaskToken())
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
            .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.newBuilder()))
        .build();
  }

  @Test
  void aFailedCommitKeepsTheHeldBackStartForTheNextTry() throws Exception {
    String queue = "held-" + UUID.randomUUID();
    String workflowId = "held-" + UUID.randomUUID();
    String runId = call(engine.frontend::startWorkflowExecution, startRequest(NAMESPACE, queue, workflowId)).getRunId();
    ExecutionKey run = new ExecutionKey(NAMESPACE, workflowId, runId);

    int before = commits.get();
    PollWorkflowTaskQueueResponse task = call(engine.frontend::pollWorkflowTaskQueue,
        PollWorkflowTaskQueueRequest.newBuilder()
            .setNamespace(NAMESPACE)
            .setTaskQueue(TaskQueue.newBuilder().setName(queue))
            .setIdentity("worker")
            .build());

    assertThat(task.getStartedEventId()).isEqualTo(3);
    assertThat(commits.get() - before).as("the start is not written on its own").isZero();
    assertThat(metrics.get("perdura.history.changes.held.back").counter().count()).isEqualTo(1);
    assertThat(storedEventIds(run)).containsExactly(1L, 2L);

    failNextCommit.set(true);
    assertThatThrownBy(() -> call(engine.frontend::respondWorkflowTaskCompleted, completion(task)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(storedEventIds(run)).containsExactly(1L, 2L);

    call(engine.frontend::respondWorkflowTaskCompleted, completion(task));

    assertThat(storedEventIds(run)).as("the start, the completion and the close in one write")
        .containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(commits.get() - before).isEqualTo(1);
  }
}
