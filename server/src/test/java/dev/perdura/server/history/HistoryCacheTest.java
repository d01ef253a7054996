package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryCacheTest {
  private static final ExecutionKey RUN = new ExecutionKey("ns", "wf", "run-1");
  private static final ExecutionKey OTHER = new ExecutionKey("ns", "wf-2", "run-2");

  private static List<EventRow> events(long from, long to) {
    List<EventRow> events = new ArrayList<>();
    for (long id = from; id <= to; id++) {
      events.add(new EventRow(id,
          HistoryEvent.newBuilder().setEventId(id).setEventType(EventType.EVENT_TYPE_TIMER_FIRED).build().toByteArray()));
    }
    return events;
  }

  private static long bytes(List<EventRow> events) {
    return events.stream().mapToLong(e -> e.data().length).sum();
  }

  private static List<Long> ids(List<EventRow> events) {
    return events.stream().map(EventRow::eventId).toList();
  }

  @Test
  void aRunCreatedHereIsServedFromItsFirstEventAsItGrows() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 100);
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 3));
    cache.committed(RUN, false, Statuses.RUNNING, events(4, 5));
    cache.committed(RUN, false, Statuses.RUNNING, List.of());

    assertThat(ids(cache.events(RUN, 1, 5).orElseThrow())).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(ids(cache.events(RUN, 4, 5).orElseThrow())).containsExactly(4L, 5L);
    assertThat(ids(cache.eventsFrom(RUN, 3, 2).orElseThrow())).containsExactly(3L, 4L);
    assertThat(cache.eventsFrom(RUN, 6, 10).orElseThrow()).isEmpty();
    assertThat(cache.events(RUN, 4, 6)).as("event 6 is not committed yet").isEmpty();
    assertThat(cache.head(RUN)).contains(new HistoryCache.Head(Statuses.RUNNING, 5));

    cache.committed(RUN, false, Statuses.COMPLETED, events(6, 6));
    assertThat(cache.head(RUN)).contains(new HistoryCache.Head(Statuses.COMPLETED, 6));
  }

  @Test
  void aRunNotCreatedHereIsLeftToTheStore() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 100);
    cache.committed(RUN, false, Statuses.RUNNING, events(7, 8));

    assertThat(cache.events(RUN, 7, 8)).isEmpty();
    assertThat(cache.head(RUN)).isEmpty();
  }

  @Test
  void aGapInTheEventsDropsTheRun() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 100);
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 3));
    cache.committed(RUN, false, Statuses.RUNNING, events(5, 6));

    assertThat(cache.head(RUN)).isEmpty();
    assertThat(cache.bytes()).isZero();
  }

  @Test
  void aLongRunKeepsItsLatestEventsAndLeavesItsBeginningToTheStore() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 10);
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 8));
    long eightEvents = cache.bytes();
    cache.committed(RUN, false, Statuses.RUNNING, events(9, 11));

    // Past the bound of 10, the oldest go until half the bound is left: events 7 to 11.
    assertThat(cache.head(RUN)).contains(new HistoryCache.Head(Statuses.RUNNING, 11));
    assertThat(ids(cache.events(RUN, 7, 11).orElseThrow())).containsExactly(7L, 8L, 9L, 10L, 11L);
    assertThat(ids(cache.eventsFrom(RUN, 10, 5).orElseThrow())).containsExactly(10L, 11L);
    assertThat(cache.events(RUN, 1, 11)).as("its beginning is read from the store").isEmpty();
    assertThat(cache.events(RUN, 6, 8)).isEmpty();
    assertThat(cache.eventsFrom(RUN, 6, 5)).isEmpty();
    assertThat(cache.bytes()).isEqualTo(eightEvents * 5 / 8);

    cache.committed(RUN, false, Statuses.RUNNING, events(12, 20));
    assertThat(ids(cache.events(RUN, 16, 20).orElseThrow())).containsExactly(16L, 17L, 18L, 19L, 20L);
    assertThat(cache.events(RUN, 15, 20)).isEmpty();

    // The events still have to follow on from the last one held.
    cache.committed(RUN, false, Statuses.RUNNING, events(22, 22));
    assertThat(cache.head(RUN)).isEmpty();
    assertThat(cache.bytes()).isZero();
  }

  @Test
  void theLeastRecentlyUsedRunGoesFirstWhenTheByteBoundIsReached() {
    long oneRun = bytes(events(1, 10));
    HistoryCache cache = new HistoryCache(oneRun * 2, 1 << 20, 100);
    ExecutionKey third = new ExecutionKey("ns", "wf-3", "run-3");
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 10));
    cache.committed(OTHER, true, Statuses.RUNNING, events(1, 10));
    assertThat(cache.head(RUN)).isPresent(); // RUN is now the most recently used

    cache.committed(third, true, Statuses.RUNNING, events(1, 10));

    assertThat(cache.head(OTHER)).isEmpty();
    assertThat(cache.head(RUN)).isPresent();
    assertThat(cache.head(third)).isPresent();
    assertThat(cache.bytes()).isLessThanOrEqualTo(oneRun * 2);
  }

  @Test
  void closedRunsHaveABoundOfTheirOwnAndTheFirstClosedGoesFirst() {
    long oneRun = bytes(events(1, 10));
    HistoryCache cache = new HistoryCache(oneRun * 3, oneRun, 100);
    ExecutionKey third = new ExecutionKey("ns", "wf-3", "run-3");
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 9));
    cache.committed(OTHER, true, Statuses.RUNNING, events(1, 9));
    cache.committed(third, true, Statuses.RUNNING, events(1, 9));
    assertThat(cache.head(RUN)).as("three open runs fit").isPresent();

    cache.committed(RUN, false, Statuses.COMPLETED, events(10, 10));
    cache.madeCurrent(RUN);
    assertThat(cache.head(RUN)).contains(new HistoryCache.Head(Statuses.COMPLETED, 10));
    assertThat(cache.currentRunId("ns", "wf")).contains("run-1");
    assertThat(ids(cache.events(RUN, 9, 10).orElseThrow())).containsExactly(9L, 10L);

    // The next run to close takes the closed runs' room: the first one closed goes.
    cache.committed(OTHER, false, Statuses.FAILED, events(10, 10));
    assertThat(cache.head(RUN)).isEmpty();
    assertThat(cache.currentRunId("ns", "wf")).as("its workflow id is left to the store").isEmpty();
    assertThat(cache.head(OTHER)).contains(new HistoryCache.Head(Statuses.FAILED, 10));
    assertThat(cache.head(third)).as("open runs are not evicted for closed ones").isPresent();
    assertThat(cache.bytes()).isEqualTo(oneRun + bytes(events(1, 9)));

    cache.forgetAll(key -> true);
    assertThat(cache.head(OTHER)).isEmpty();
    assertThat(cache.bytes()).isZero();
  }

  @Test
  void theCurrentRunOfAWorkflowIdIsKnownWhileThatRunIsHeld() {
    long oneRun = bytes(events(1, 10));
    HistoryCache cache = new HistoryCache(oneRun * 2, 1 << 20, 100);
    ExecutionKey next = new ExecutionKey("ns", "wf", "run-next");
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 10));
    cache.madeCurrent(RUN);
    assertThat(cache.currentRunId("ns", "wf")).contains("run-1");
    assertThat(cache.currentRunId("other-ns", "wf")).isEmpty();

    // Continued as new: the new run is current, and dropping the old one does not forget it.
    cache.committed(next, true, Statuses.RUNNING, events(1, 10));
    cache.madeCurrent(next);
    cache.forget(RUN);
    assertThat(cache.currentRunId("ns", "wf")).contains("run-next");

    // Evicted by the byte bound: the store answers again.
    cache.committed(OTHER, true, Statuses.RUNNING, events(1, 10));
    cache.committed(new ExecutionKey("ns", "wf-3", "run-3"), true, Statuses.RUNNING, events(1, 10));
    assertThat(cache.head(next)).isEmpty();
    assertThat(cache.currentRunId("ns", "wf")).isEmpty();
  }

  @Test
  void aCurrentRunThatIsNotHeldLeavesTheWorkflowIdToTheStore() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 5);
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 3));
    cache.madeCurrent(RUN);
    ExecutionKey loaded = new ExecutionKey("ns", "wf", "run-loaded");
    cache.committed(loaded, false, Statuses.RUNNING, events(7, 8));
    cache.madeCurrent(loaded);

    assertThat(cache.head(loaded)).isEmpty();
    assertThat(cache.currentRunId("ns", "wf")).as("run-1 is no longer current").isEmpty();
  }

  @Test
  void aShardThatMovesAwayTakesItsCurrentRunsWithIt() {
    HistoryCache cache = new HistoryCache(1 << 20, 1 << 20, 100);
    cache.committed(RUN, true, Statuses.RUNNING, events(1, 3));
    cache.madeCurrent(RUN);
    cache.committed(OTHER, true, Statuses.RUNNING, events(1, 3));
    cache.madeCurrent(OTHER);

    cache.forgetAll(key -> key.workflowId().equals("wf"));

    assertThat(cache.currentRunId("ns", "wf")).isEmpty();
    assertThat(cache.currentRunId("ns", "wf-2")).contains("run-2");
  }
}
