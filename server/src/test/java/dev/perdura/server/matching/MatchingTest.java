package dev.perdura.server.matching;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class MatchingTest {
  private static final ExecutionKey RUN = new ExecutionKey("ns", "wf", "run");

  private final Matching matching = new Matching();

  @Test
  void queuesAreCreatedOnFirstUseAndShared() {
    TaskQueueDispatcher queue = matching.queue("ns", "q", TaskKind.WORKFLOW);

    assertThat(matching.queue("ns", "q", TaskKind.WORKFLOW)).isSameAs(queue);
    assertThat(matching.queue("ns", "q", TaskKind.ACTIVITY)).isNotSameAs(queue);
    assertThat(matching.queue("other", "q", TaskKind.WORKFLOW)).isNotSameAs(queue);
    assertThat(matching.queue("ns", "q2", TaskKind.WORKFLOW)).isNotSameAs(queue);
  }

  @Test
  void addRoutesByNamespaceQueueAndKind() {
    CompletableFuture<Dispatch> workflowPoll = matching.queue("ns", "q", TaskKind.WORKFLOW).poll(TaskFixtures.POLLER);
    CompletableFuture<Dispatch> activityPoll = matching.queue("ns", "q", TaskKind.ACTIVITY).poll(TaskFixtures.POLLER);

    TaskRow activityTask = task(RUN, TaskKind.ACTIVITY, "q", 5);
    matching.add(activityTask);

    assertThat(activityPoll).isCompletedWithValue(new Dispatch.Queued(activityTask));
    assertThat(workflowPoll).isNotDone();
  }

  @Test
  void aForeignRunsTaskIsQueuedButLeftToStalenessWhenTheRunCloses() {
    matching.addForeign(task(RUN, TaskKind.WORKFLOW, "q", 3));
    assertThat(matching.backlogSize()).isEqualTo(1);
    assertThat(matching.removeExecution(RUN)).as("nothing remembered for a run owned elsewhere").isZero();
    assertThat(matching.backlogSize()).isEqualTo(1);

    matching.add(task(RUN, TaskKind.ACTIVITY, "q", 4));
    assertThat(matching.removeExecution(RUN)).isEqualTo(1);
    assertThat(matching.backlogSize()).isEqualTo(1);
  }

  @Test
  void closingTheQueuesOfAShardEndsTheirPollsAndForgetsThem() {
    TaskQueueDispatcher moving = matching.queue("ns", "moving", TaskKind.WORKFLOW);
    CompletableFuture<Dispatch> poll = moving.poll(TaskFixtures.POLLER);
    matching.add(task(RUN, TaskKind.WORKFLOW, "staying", 1));

    assertThat(matching.closeQueues((namespace, queue) -> queue.equals("moving"))).isEqualTo(1);

    assertThat(poll).isCompletedExceptionally();
    assertThat(matching.queue("ns", "moving", TaskKind.WORKFLOW)).as("a fresh queue if named again").isNotSameAs(moving);
    assertThat(matching.backlogSize()).isEqualTo(1);
  }

  @Test
  void removeExecutionCleansEveryQueueOfTheRun() {
    ExecutionKey otherRun = new ExecutionKey("ns", "wf", "run-2");
    matching.add(task(RUN, TaskKind.WORKFLOW, "q", 3));
    matching.add(task(RUN, TaskKind.ACTIVITY, "q", 5));
    matching.add(task(RUN, TaskKind.ACTIVITY, "other-q", 6));
    matching.add(task(otherRun, TaskKind.ACTIVITY, "q", 5));

    assertThat(matching.removeExecution(RUN)).isEqualTo(3);

    assertThat(matching.queue("ns", "q", TaskKind.WORKFLOW).backlogSize()).isZero();
    assertThat(matching.queue("ns", "other-q", TaskKind.ACTIVITY).backlogSize()).isZero();
    assertThat(matching.queue("ns", "q", TaskKind.ACTIVITY).backlogSize()).isEqualTo(1);
  }

  @Test
  void closeEndsPollsOfAllQueuesAndOfQueuesNamedLater() {
    CompletableFuture<Dispatch> poll = matching.queue("ns", "q", TaskKind.WORKFLOW).poll(TaskFixtures.POLLER);

    matching.close();

    assertThat(poll).isCancelled();
    assertThat(matching.queue("ns", "new", TaskKind.ACTIVITY).poll(TaskFixtures.POLLER)).isCancelled();
  }

  private static TaskRow task(ExecutionKey run, TaskKind kind, String queue, long eventId) {
    return new TaskRow(run, kind, queue, eventId, 1, 0, "", 0f, 0L);
  }
}
