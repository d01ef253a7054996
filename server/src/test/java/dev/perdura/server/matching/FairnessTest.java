package dev.perdura.server.matching;

import static dev.perdura.server.matching.TaskFixtures.dispatchWorkflowIds;
import static dev.perdura.server.matching.TaskFixtures.dispatcher;
import static dev.perdura.server.matching.TaskFixtures.execution;
import static dev.perdura.server.matching.TaskFixtures.keyed;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stride scheduling between fairness keys within one priority level. */
class FairnessTest {

  @Test
  void backloggedKeysShareInProportionToWeight() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "light", 1f, 400);
    addBatch(dispatcher, "heavy", 3f, 400);

    List<String> first200 = dispatchWorkflowIds(dispatcher, 200);

    assertThat(Collections.frequency(first200, "light")).isBetween(45, 55);
    assertThat(Collections.frequency(first200, "heavy")).isBetween(145, 155);
  }

  @Test
  void interleavedArrivalGivesTheSameShares() {
    TaskQueueDispatcher dispatcher = dispatcher();
    for (int i = 0; i < 400; i++) {
      dispatcher.add(keyed("light", 1f, i));
      dispatcher.add(keyed("heavy", 3f, i));
    }

    List<String> first200 = dispatchWorkflowIds(dispatcher, 200);

    assertThat(Collections.frequency(first200, "light")).isBetween(45, 55);
  }

  @Test
  void lowWeightKeyIsNotStarved() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "big", 1000f, 2000);
    addBatch(dispatcher, "small", 1f, 10);

    // Weight 1000 against 1: the small key is due once per ~1000 dispatches.
    List<String> first1001 = dispatchWorkflowIds(dispatcher, 1001);

    assertThat(Collections.frequency(first1001, "small")).isBetween(1, 3);
  }

  @Test
  void loneKeyGetsEveryDispatchInOrder() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "only", 0.001f, 50);

    for (long id = 0; id < 50; id++) {
      assertThat(TaskFixtures.next(dispatcher).scheduledEventId()).isEqualTo(id);
    }
  }

  @Test
  void unsetWeightCountsAsOne() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "unset", 0f, 100);
    addBatch(dispatcher, "heavy", 2f, 100);
    addBatch(dispatcher, "one", 1f, 100);

    List<String> first40 = dispatchWorkflowIds(dispatcher, 40);

    assertThat(Collections.frequency(first40, "unset")).isBetween(9, 11);
    assertThat(Collections.frequency(first40, "one")).isBetween(9, 11);
  }

  @Test
  void weightsBeyondTheRangeAreClamped() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "above", 1e9f, 100);
    addBatch(dispatcher, "max", 1000f, 100);
    addBatch(dispatcher, "below", 1e-9f, 100);
    addBatch(dispatcher, "min", 0.001f, 100);
    assertThat(dispatchWorkflowIds(dispatcher, 4)).containsExactly("above", "max", "below", "min");

    List<String> next100 = dispatchWorkflowIds(dispatcher, 100);
    assertThat(Collections.frequency(next100, "above")).isEqualTo(50);

    // The two lightest keys got their first turn at the start, their second is 10^6 passes away.
    addBatch(dispatcher, "one", 1f, 3000);
    List<String> next3000 = dispatchWorkflowIds(dispatcher, 3000);
    assertThat(Collections.frequency(next3000, "below"))
        .isEqualTo(Collections.frequency(next3000, "min"));
  }

  @Test
  void emptyFairnessKeyIsAKeyLikeAnyOther() {
    TaskQueueDispatcher dispatcher = dispatcher();
    for (long id = 0; id < 50; id++) {
      dispatcher.add(TaskFixtures.task("unkeyed", id, 0, "", 0f));
    }
    addBatch(dispatcher, "keyed", 1f, 50);

    List<String> first20 = dispatchWorkflowIds(dispatcher, 20);

    assertThat(Collections.frequency(first20, "unkeyed")).isEqualTo(10);
  }

  @Test
  void lateKeyJoinsAtTheCurrentPositionWithoutBurstOrStarvation() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "a", 1f, 100);
    addBatch(dispatcher, "b", 1f, 100);
    dispatchWorkflowIds(dispatcher, 50);

    addBatch(dispatcher, "late", 1f, 100);
    List<String> next30 = dispatchWorkflowIds(dispatcher, 30);

    // Without the base pass "late" would start at the passes already served and take all 30.
    assertThat(Collections.frequency(next30, "late")).isBetween(9, 11);
    assertThat(Collections.frequency(next30, "a")).isBetween(9, 11);
    assertThat(Collections.frequency(next30, "b")).isBetween(9, 11);
  }

  @Test
  void keyReturningAfterIdleGetsNoCreditForTheIdleTime() {
    TaskQueueDispatcher dispatcher = dispatcher();
    addBatch(dispatcher, "a", 1f, 1);
    addBatch(dispatcher, "b", 1f, 200);
    dispatchWorkflowIds(dispatcher, 101);

    addBatch(dispatcher, "a", 1f, 20);
    List<String> next20 = dispatchWorkflowIds(dispatcher, 20);

    assertThat(Collections.frequency(next20, "a")).isBetween(9, 11);
  }

  @Test
  void removedTasksAreNotChargedToTheirKey() {
    TaskQueueDispatcher dispatcher = dispatcher();
    for (long id = 0; id < 100; id++) {
      dispatcher.add(TaskFixtures.task("closed", id, 0, "tenant", 1f));
    }
    assertThat(dispatcher.removeExecution(execution("closed"))).isEqualTo(100);

    addBatch(dispatcher, "other", 1f, 50);
    for (long id = 0; id < 50; id++) {
      dispatcher.add(TaskFixtures.task("open", id, 0, "tenant", 1f));
    }
    List<String> first20 = dispatchWorkflowIds(dispatcher, 20);

    // Had the 100 withdrawn tasks kept their passes, "tenant" would wait for 100 of "other".
    assertThat(Collections.frequency(first20, "open")).isEqualTo(10);
  }

  @Test
  void removingAKeysNewestTasksLetsItsNextTaskFollowTheRemainingOnes() {
    TaskQueueDispatcher dispatcher = dispatcher();
    dispatcher.add(TaskFixtures.task("kept", 0, 0, "tenant", 1f));
    for (long id = 0; id < 100; id++) {
      dispatcher.add(TaskFixtures.task("closed", id, 0, "tenant", 1f));
    }
    dispatcher.removeExecution(execution("closed"));

    addBatch(dispatcher, "other", 1f, 50);
    for (long id = 1; id < 50; id++) {
      dispatcher.add(TaskFixtures.task("kept", id, 0, "tenant", 1f));
    }
    List<String> first20 = dispatchWorkflowIds(dispatcher, 20);

    assertThat(Collections.frequency(first20, "kept")).isEqualTo(10);
  }

  @Test
  void idleKeysAreForgottenOnceTheBasePassHasMovedPastThem() {
    FairLevel level = new FairLevel();
    long sequence = 0;
    for (int i = 0; i < 10_000; i++) {
      level.enqueue(keyed("steady", 1f, i), sequence++);
    }
    // One-off keys (as with a key per workflow) served alongside a steady key, which moves the
    // base pass on.
    for (int i = 0; i < 5_000; i++) {
      level.enqueue(keyed("once-" + i, 1f, 0), sequence++);
      level.dispatchNext();
      level.dispatchNext();
    }
    assertThat(level.trackedKeys()).isLessThan(200);
  }

  @Test
  void idleKeysAreBoundedEvenWhenTheBasePassStands() {
    FairLevel level = new FairLevel();
    long sequence = 0;
    // Each key is served at once at the base pass, so the base never moves and every key's
    // history still matters; memory must stay bounded all the same.
    for (int i = 0; i < 20_000; i++) {
      level.enqueue(keyed("once-" + i, 1f, 0), sequence++);
      level.dispatchNext();
    }
    assertThat(level.trackedKeys()).isBetween(1, FairLevel.MAX_TRACKED_KEYS);
  }

  private static void addBatch(
      TaskQueueDispatcher dispatcher, String key, float weight, int count) {
    for (long id = 0; id < count; id++) {
      dispatcher.add(keyed(key, weight, id));
    }
  }
}
