package dev.perdura.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityCancellationDetails;
import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.activity.CancellationShield;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivityEnvironmentTest {

  /** The seed's long_running_task: heartbeats its progress after each item. */
  static List<String> longRunningTask(List<String> items) {
    List<String> results = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      results.add("done " + items.get(i));
      Activity.heartbeat(i + 1, items.size(), items.get(i));
      if (Activity.isCancelled()) {
        break;
      }
    }
    return results;
  }

  @Test
  void runsActivityCodeWithInfoAndCapturesItsHeartbeats() throws Exception {
    ActivityEnvironment env = ActivityEnvironment.create();
    assertThat(env.run(() -> longRunningTask(List.of("a", "b")))).containsExactly("done a", "done b");
    assertThat(env.heartbeats()).containsExactly(List.of(1, 2, "a"), List.of(2, 2, "b"));
    assertThat(env.run(() -> Activity.info().activityId() + "/" + Activity.info().workflowId().orElseThrow()))
        .isEqualTo("test/test");
    assertThat(Activity.inActivity()).isFalse();
  }

  @Test
  void aChosenInfoIsWhatTheActivitySees() throws Exception {
    ActivityInfo base = ActivityEnvironment.defaultInfo();
    ActivityInfo third = new ActivityInfo(base.activityId(), "charge", 3, base.currentAttemptScheduledTime(),
        base.heartbeatDetails(), Optional.of(Duration.ofSeconds(5)), false, base.scheduleToCloseTimeout(),
        base.scheduledTime(), base.startToCloseTimeout(), base.startedTime(), "payments", base.taskToken(),
        base.namespace(), base.workflowId(), base.workflowRunId(), base.workflowType(), base.priority(),
        base.activityRunId());
    ActivityEnvironment env = ActivityEnvironment.create().withInfo(third);
    assertThat(env.run(() -> Activity.info().activityType() + " attempt " + Activity.info().attempt()
        + " on " + Activity.info().taskQueue())).isEqualTo("charge attempt 3 on payments");
  }

  @ParameterizedTest
  @EnumSource(Reason.class)
  void cancellingWithAReasonThrowsAtTheNextHeartbeatWithThoseDetails(Reason reason) {
    ActivityEnvironment env = ActivityEnvironment.create();
    env.onHeartbeat(details -> env.cancel(reason));
    AtomicReference<ActivityCancellationDetails> seen = new AtomicReference<>();
    assertThatThrownBy(() -> env.run(() -> {
      try {
        for (int i = 0; i < 100; i++) {
          Activity.heartbeat(i);
          Thread.sleep(10);
        }
        return "not cancelled";
      } finally {
        seen.set(Activity.cancellationDetails().orElse(null));
      }
    })).isInstanceOfAny(ActivityCanceledException.class, InterruptedException.class);
    assertThat(seen.get()).isEqualTo(ActivityCancellationDetails.of(reason));
    assertThat(env.heartbeats()).hasSizeLessThanOrEqualTo(2);
  }

  @Test
  void optingOutLeavesTheActivityToPollTheFlag() throws Exception {
    ActivityEnvironment env = ActivityEnvironment.create().withNoThreadCancelException(true);
    env.onHeartbeat(details -> env.cancel(Reason.CANCEL_REQUESTED));
    assertThat(env.run(() -> {
      for (int i = 0; i < 100; i++) {
        Activity.heartbeat(i);
        if (Activity.isCancelled()) {
          return "stopped at " + i + ", interrupted=" + Thread.currentThread().isInterrupted();
        }
      }
      return "ran to the end";
    })).isEqualTo("stopped at 0, interrupted=false");
  }

  @Test
  void aShieldDefersTheCancellationAndTheLambdaFormReplacesTheBlocksOutcome() {
    ActivityEnvironment env = ActivityEnvironment.create();
    env.onHeartbeat(details -> env.cancel(Reason.CANCEL_REQUESTED));
    List<String> steps = new ArrayList<>();
    assertThatThrownBy(() -> env.run(() -> {
      try (CancellationShield outer = Activity.shieldCancellation()) {
        try (CancellationShield inner = Activity.shieldCancellation()) {
          Activity.heartbeat("inside");
          Thread.sleep(20); // not interrupted inside the shield
          steps.add("inner done");
        }
        steps.add("outer still running");
      }
      steps.add("never reached");
      return null;
    })).isInstanceOf(ActivityCanceledException.class);
    assertThat(steps).containsExactly("inner done", "outer still running");

    assertThatThrownBy(() -> ActivityEnvironment.create().run(() -> {
      ActivityEnvironment.class.getName(); // keep the lambda a Callable
      return Activity.shielded(() -> {
        throw new IllegalStateException("block's own failure");
      });
    })).isInstanceOf(IllegalStateException.class);

    ActivityEnvironment cancelling = ActivityEnvironment.create();
    cancelling.onHeartbeat(details -> cancelling.cancel(Reason.TIMED_OUT));
    assertThatThrownBy(() -> cancelling.run(() -> Activity.shielded(() -> {
      Activity.heartbeat();
      throw new IllegalStateException("replaced by the cancellation");
    }))).isInstanceOfSatisfying(ActivityCanceledException.class, e -> {
      assertThat(e.details().timedOut()).isTrue();
      assertThat(e.getSuppressed()).singleElement().isInstanceOf(IllegalStateException.class);
    });
  }

  @Test
  void workerShutdownIsSeenAndWaitedFor() throws Exception {
    ActivityEnvironment env = ActivityEnvironment.create();
    Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      env.shutdownWorker();
    });
    assertThat(env.run(() -> Activity.waitForWorkerShutdown(Duration.ofSeconds(30)) && Activity.isWorkerShutdown()))
        .isTrue();
    assertThat(ActivityEnvironment.create().run(() -> Activity.waitForWorkerShutdown(Duration.ofMillis(50)))).isFalse();
  }

  @Test
  void withoutAClientTheActivitySaysSo() {
    assertThatThrownBy(() -> ActivityEnvironment.create().run(Activity::client))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no client");
  }
}
