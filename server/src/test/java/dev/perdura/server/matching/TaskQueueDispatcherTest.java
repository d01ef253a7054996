package dev.perdura.server.matching;

import static dev.perdura.server.matching.TaskFixtures.dispatcher;
import static dev.perdura.server.matching.TaskFixtures.execution;
import static dev.perdura.server.matching.TaskFixtures.next;
import static dev.perdura.server.matching.TaskFixtures.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TaskQueueDispatcherTest {

  @Test
  void tasksOfOneKeyDispatchInArrivalOrder() {
    TaskQueueDispatcher dispatcher = dispatcher();
    for (long id = 1; id <= 20; id++) {
      dispatcher.add(task("wf", id));
    }

    List<Long> order = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      order.add(next(dispatcher).scheduledEventId());
    }

    assertThat(order).isSorted().hasSize(20);
    assertThat(dispatcher.backlogSize()).isZero();
  }

  @Test
  void lowerPriorityKeyDispatchesFirstAndZeroMeansThree() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(task("p5", 1, 5, "", 0f));
    dispatcher.add(task("p3", 2, 3, "", 0f));
    dispatcher.add(task("p0", 3, 0, "", 0f));
    dispatcher.add(task("p9", 4, 9, "", 0f));
    dispatcher.add(task("p1", 5, 1, "", 0f));
    dispatcher.add(task("p2", 6, 2, "", 0f));
    dispatcher.add(task("p4", 7, 4, "", 0f));

    // p0 shares level 3 (and the empty fairness key) with p3, so it follows it in arrival order;
    // p9 counts as 5 and arrived after p5.
    assertThat(TaskFixtures.dispatchWorkflowIds(dispatcher, 7))
        .containsExactly("p1", "p2", "p3", "p0", "p4", "p5", "p9");
  }

  @Test
  void priorityOutranksFairness() {
    TaskQueueDispatcher dispatcher = dispatcher();
    for (long id = 1; id <= 3; id++) {
      dispatcher.add(task("heavy", id, 4, "heavy", 1000f));
    }
    dispatcher.add(task("urgent", 10, 2, "light", 0.001f));

    assertThat(TaskFixtures.dispatchWorkflowIds(dispatcher, 4))
        .containsExactly("urgent", "heavy", "heavy", "heavy");
  }

  @Test
  void waitingPollReceivesTaskAddedLater() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
    assertThat(poll).isNotDone();
    assertThat(dispatcher.waitingPollers()).isEqualTo(1);

    TaskRow task = task("wf", 5);
    dispatcher.add(task);

    assertThat(poll).isCompletedWithValue(new Dispatch.Queued(task));
    assertThat(dispatcher.waitingPollers()).isZero();
    assertThat(dispatcher.backlogSize()).isZero();
  }

  @Test
  void oldestWaitingPollIsServedFirst() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> first = dispatcher.poll(TaskFixtures.POLLER);
    CompletableFuture<Dispatch> second = dispatcher.poll(TaskFixtures.POLLER);

    dispatcher.add(task("wf", 1));
    assertThat(first).isCompleted();
    assertThat(second).isNotDone();

    dispatcher.add(task("wf", 2));
    assertThat(TaskFixtures.queued(second.join()).scheduledEventId()).isEqualTo(2);
  }

  @Test
  void cancelledPollLeavesTheWaitingSetAndTheTaskStaysInTheBacklog() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
    assertThat(poll.cancel(false)).isTrue();
    assertThat(dispatcher.waitingPollers()).isZero();

    TaskRow task = task("wf", 1);
    dispatcher.add(task);

    assertThat(dispatcher.backlogSize()).isEqualTo(1);
    assertThat(next(dispatcher)).isEqualTo(task);
  }

  @Test
  void pollWithdrawnByTimeoutCompletionAlsoLeavesTheWaitingSet() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
    CompletableFuture<Dispatch> live = dispatcher.poll(TaskFixtures.POLLER);

    // What completeOnTimeout(null, ...) does when a long poll's time is up.
    poll.complete(null);
    assertThat(dispatcher.waitingPollers()).isEqualTo(1);

    TaskRow task = task("wf", 1);
    dispatcher.add(task);
    assertThat(live).isCompletedWithValue(new Dispatch.Queued(task));
  }

  @Test
  void pollCallbacksRunWithoutTheDispatcherLock() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Integer> seenFromAnotherThread = new CompletableFuture<>();
    dispatcher
        .poll(TaskFixtures.POLLER)
        .thenRun(
            () -> {
              // Would time out if add() still held the lock while completing the poll.
              CompletableFuture.supplyAsync(dispatcher::backlogSize)
                  .orTimeout(5, TimeUnit.SECONDS)
                  .whenComplete(
                      (size, failure) -> {
                        if (failure != null) {
                          seenFromAnotherThread.completeExceptionally(failure);
                        } else {
                          seenFromAnotherThread.complete(size);
                        }
                      })
                  .join();
            });

    dispatcher.add(task("wf", 1));

    assertThat(seenFromAnotherThread).isCompletedWithValue(0);
  }

  @Test
  void removeDropsOneBacklogTask() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(task("wf", 1));
    dispatcher.add(task("wf", 2));
    dispatcher.add(task("wf", 3));

    assertThat(dispatcher.remove(execution("wf"), 2)).isTrue();
    assertThat(dispatcher.remove(execution("wf"), 2)).isFalse();
    assertThat(dispatcher.remove(execution("other"), 1)).isFalse();

    assertThat(next(dispatcher).scheduledEventId()).isEqualTo(1);
    assertThat(dispatcher.remove(execution("wf"), 1)).as("already dispatched").isFalse();
    assertThat(next(dispatcher).scheduledEventId()).isEqualTo(3);
    assertThat(dispatcher.backlogSize()).isZero();
  }

  @Test
  void removeExecutionDropsAllItsTasksAcrossPriorities() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(task("closed", 1, 1, "", 0f));
    dispatcher.add(task("open", 2, 0, "", 0f));
    dispatcher.add(task("closed", 3, 5, "k", 2f));
    dispatcher.add(task("closed", 4, 0, "", 0f));

    assertThat(dispatcher.removeExecution(execution("closed"))).isEqualTo(3);
    assertThat(dispatcher.removeExecution(execution("closed"))).isZero();

    assertThat(dispatcher.backlogSize()).isEqualTo(1);
    assertThat(next(dispatcher).execution()).isEqualTo(execution("open"));
  }

  @Test
  void removeExecutionOnlyMatchesTheSameRun() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(task("wf", 1));

    assertThat(dispatcher.removeExecution(new ExecutionKey(TaskFixtures.NAMESPACE, "wf", "run-2")))
        .isZero();
    assertThat(dispatcher.backlogSize()).isEqualTo(1);
  }

  @Test
  void addingATaskAgainReplacesTheBacklogCopy() {
    TaskQueueDispatcher dispatcher = dispatcher();
    TaskRow firstAttempt = task("wf", 7);
    TaskRow secondAttempt =
        new TaskRow(
            firstAttempt.execution(), TaskKind.ACTIVITY, TaskFixtures.QUEUE, 7, 2, 1, "", 0f, 0L);
    dispatcher.add(task("wf", 1));
    dispatcher.add(firstAttempt);
    dispatcher.add(secondAttempt);

    assertThat(dispatcher.backlogSize()).isEqualTo(2);
    assertThat(next(dispatcher)).as("moved to priority 1").isEqualTo(secondAttempt);
    assertThat(next(dispatcher).scheduledEventId()).isEqualTo(1);
  }

  @Test
  void taskOfAnotherQueueIsRejected() {
    TaskQueueDispatcher dispatcher = dispatcher();
    TaskRow workflowTask =
        new TaskRow(execution("wf"), TaskKind.WORKFLOW, TaskFixtures.QUEUE, 1, 1, 0, "", 0f, 0L);
    TaskRow otherQueue =
        new TaskRow(execution("wf"), TaskKind.ACTIVITY, "other", 1, 1, 0, "", 0f, 0L);

    assertThatThrownBy(() -> dispatcher.add(workflowTask))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> dispatcher.add(otherQueue))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(dispatcher.backlogSize()).isZero();
  }

  @Test
  void closeCancelsWaitingPollsAndLaterPolls() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> waiting = dispatcher.poll(TaskFixtures.POLLER);

    dispatcher.close();

    assertThat(waiting).isCancelled();
    assertThat(dispatcher.waitingPollers()).isZero();
    assertThat(dispatcher.poll(TaskFixtures.POLLER)).isCancelled();

    dispatcher.add(task("wf", 1));
    assertThat(dispatcher.backlogSize()).as("tasks are kept after close").isEqualTo(1);
  }

  @Test
  void reservingTakesTheOldestWaitingPollAndTellsItWhoItIs() {
    TaskQueueDispatcher dispatcher = dispatcher();
    assertThat(dispatcher.reserveWaitingPoll()).as("nobody waits").isEmpty();
    CompletableFuture<Dispatch> withdrawn = dispatcher.poll(new PollReservation.Poller("gone", "r0"));
    CompletableFuture<Dispatch> oldest = dispatcher.poll(new PollReservation.Poller("w1", "r1"));
    CompletableFuture<Dispatch> younger = dispatcher.poll(new PollReservation.Poller("w2", "r2"));
    withdrawn.cancel(false);

    PollReservation reservation = dispatcher.reserveWaitingPoll().orElseThrow();

    assertThat(reservation.poller()).isEqualTo(new PollReservation.Poller("w1", "r1"));
    assertThat(oldest).as("completes only when the start is durable").isNotDone();
    assertThat(younger).isNotDone();
    assertThat(dispatcher.waitingPollers()).isEqualTo(1);
    reservation.fulfil(() -> "response");
    assertThat(oldest.join()).isInstanceOfSatisfying(Dispatch.Started.class,
        started -> assertThat(started.response().get()).isEqualTo("response"));

    dispatcher.add(task("wf", 1));
    assertThat(younger).isCompletedWithValue(new Dispatch.Queued(task("wf", 1)));
    assertThat(dispatcher.reserveWaitingPoll()).isEmpty();
  }

  @Test
  void aReservedPollCannotBeWithdrawnAndAReleasedOneIsToldNothingStarted() {
    TaskQueueDispatcher dispatcher = dispatcher();
    CompletableFuture<Dispatch> first = dispatcher.poll(TaskFixtures.POLLER);
    CompletableFuture<Dispatch> second = dispatcher.poll(TaskFixtures.POLLER);
    PollReservation released = dispatcher.reserveWaitingPoll().orElseThrow();
    PollReservation fulfilled = dispatcher.reserveWaitingPoll().orElseThrow();

    assertThat(first.cancel(false)).as("a task is being started for it").isFalse();
    assertThat(second.cancel(false)).isFalse();
    dispatcher.close();
    assertThat(first).isNotDone();

    released.release();
    fulfilled.fulfil(() -> "response");
    assertThat(first).isCompletedWithValue(new Dispatch.NotStarted());
    assertThat(second.join()).isInstanceOf(Dispatch.Started.class);
  }

  @Test
  void racingWithdrawalsAndHandOversLoseNoTaskAndAnswerNoPollTwice() throws Exception {
    TaskQueueDispatcher dispatcher = dispatcher();
    int rounds = 2000;
    try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < rounds; i++) {
        CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
        TaskRow task = task("wf-" + i, 1);
        var withdraw = executor.submit(() -> poll.cancel(false));
        var add = executor.submit(() -> dispatcher.add(task));
        boolean withdrawn = withdraw.get();
        add.get();
        if (withdrawn) {
          assertThat(poll).isCancelled();
          assertThat(dispatcher.drainBacklog()).as("the task a withdrawn poll did not take").containsExactly(task);
        } else {
          assertThat(poll).isCompletedWithValue(new Dispatch.Queued(task));
          assertThat(dispatcher.backlogSize()).isZero();
        }
      }
    }
  }

  @Test
  void drainingTheBacklogTakesEveryTaskInDispatchOrder() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(task("low", 1, 5, "", 0f));
    dispatcher.add(task("high", 2, 1, "", 0f));
    dispatcher.add(task("mid", 3, 0, "", 0f));

    assertThat(dispatcher.drainBacklog()).extracting(t -> t.execution().workflowId())
        .containsExactly("high", "mid", "low");
    assertThat(dispatcher.backlogSize()).isZero();
    assertThat(dispatcher.drainBacklog()).isEmpty();
  }
}
