package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionKey;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HistoryWaitersTest {
  private static final ExecutionKey RUN = new ExecutionKey("ns", "wf", "run");
  private final HistoryWaiters waiters = new HistoryWaiters();

  @Test
  void aReaderOfNewEventsWakesOnlyForEventsItHasNotSeen() {
    CompletableFuture<Void> reader = waiters.next(RUN, 5, false);

    waiters.changed(RUN, Statuses.RUNNING, 5);
    assertThat(reader).isNotDone();

    waiters.changed(RUN, Statuses.RUNNING, 6);
    assertThat(reader).isDone();
  }

  @Test
  void aReaderOfTheCloseEventSleepsThroughTheRunsOtherChanges() {
    CompletableFuture<Void> closeReader = waiters.next(RUN, 0, true);
    CompletableFuture<Void> otherRun = waiters.next(new ExecutionKey("ns", "wf", "other"), 0, true);

    waiters.changed(RUN, Statuses.RUNNING, 9);
    waiters.changed(RUN, Statuses.RUNNING, 12);
    assertThat(closeReader).isNotDone();

    waiters.changed(RUN, Statuses.COMPLETED, 13);
    assertThat(closeReader).isDone();
    assertThat(otherRun).isNotDone();
  }

  @Test
  void wakeAllReleasesEveryReader() {
    CompletableFuture<Void> closeReader = waiters.next(RUN, 0, true);
    CompletableFuture<Void> eventReader = waiters.next(RUN, 3, false);

    waiters.wakeAll();

    assertThat(closeReader).isDone();
    assertThat(eventReader).isDone();
  }

  @Test
  void aReaderThatStopsWaitingIsForgottenEvenIfTheRunNeverChangesAgain() {
    CompletableFuture<Void> first = waiters.next(RUN, 0, true);
    CompletableFuture<Void> second = waiters.next(RUN, 0, true);
    assertThat(waiters.runsWaitedOn()).isEqualTo(1);

    waiters.forget(RUN, first);
    assertThat(waiters.runsWaitedOn()).isEqualTo(1);
    waiters.changed(RUN, Statuses.COMPLETED, 4);
    assertThat(first).as("forgotten, so not woken").isNotDone();
    assertThat(second).isDone();

    CompletableFuture<Void> third = waiters.next(RUN, 0, false);
    waiters.forget(RUN, third);
    assertThat(waiters.runsWaitedOn()).isZero();
  }

  @Test
  void aReaderDoneElsewhereIsSweptByTheRunsNextChangeAndTheOthersStay() {
    CompletableFuture<Void> timedOut = waiters.next(RUN, 0, true);
    CompletableFuture<Void> closeReader = waiters.next(RUN, 0, true);
    timedOut.complete(null);

    waiters.changed(RUN, Statuses.RUNNING, 7);
    assertThat(closeReader).isNotDone();
    assertThat(waiters.runsWaitedOn()).isEqualTo(1);

    closeReader.complete(null);
    waiters.changed(RUN, Statuses.RUNNING, 8);
    assertThat(waiters.runsWaitedOn()).as("the run's last reader was done: nobody waits on it").isZero();
  }
}
