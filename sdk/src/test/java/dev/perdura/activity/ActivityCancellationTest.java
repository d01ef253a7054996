package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.PauseActivityRequest;
import io.temporal.api.workflowservice.v1.ResetActivityRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cancelling a running activity: how it is delivered (interrupt, heartbeat exception, or only a flag),
 * shields, waits, and the reason recorded in the cancellation details.
 */
class ActivityCancellationTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  /** What each test's activity did, by key. */
  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();

  static void record(String key, String entry) {
    journal.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(entry);
  }

  static String reason() {
    return Activity.cancellationDetails().map(d -> d.reason().name()).orElse("none");
  }

  public static class Cancellable {
    /** The seed's cancellable activity: heartbeats every half second until cancelled, then re-raises. */
    @ActivityMethod
    public String cancellableActivity(String key) throws InterruptedException {
      try {
        while (true) {
          record(key, "heartbeating");
          Thread.sleep(500);
          Activity.heartbeat("some details");
        }
      } catch (ActivityCanceledException e) {
        record(key, "cancelled by heartbeat: " + e.details().reason());
        throw e;
      } catch (InterruptedException e) {
        record(key, "interrupted: " + reason());
        throw e;
      }
    }

    /** Catches the cancellation and returns: the activity completes with this result. */
    @ActivityMethod
    public String swallowsCancellation(String key) {
      try {
        while (true) {
          Thread.sleep(200);
          Activity.heartbeat();
        }
      } catch (ActivityCanceledException | InterruptedException e) {
        record(key, "cleaned up");
        return "Cancelled gracefully";
      }
    }

    @ActivityMethod(noThreadCancelException = true)
    public String robustActivity(String key) {
      long busyUntil = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      int heartbeats = 0;
      while (System.nanoTime() < busyUntil) {
        Activity.heartbeat(heartbeats++);
        if (Activity.isCancelled()) {
          record(key, "saw flag after " + heartbeats + " heartbeats, interrupted=" + Thread.currentThread().isInterrupted()
              + ", reason " + reason());
          return "Cancelled gracefully";
        }
        busyWork(50);
      }
      return "Completed successfully";
    }

    @ActivityMethod
    public String syncActivityWithCleanup(String key) {
      try {
        String result;
        try (CancellationShield shield = Activity.shieldCancellation()) {
          for (int i = 0; i < 30; i++) {
            Activity.heartbeat(i); // does not throw inside the shield
            busyWork(100);
          }
          record(key, "critical work done, cancelled=" + Activity.isCancelled());
          result = "critical result";
        }
        return result;
      } catch (ActivityCanceledException e) {
        record(key, "cancelled after cleanup");
        return "Cancelled after cleanup";
      }
    }

    @ActivityMethod
    public String syncMonitoringActivity(String key) throws InterruptedException {
      int checks = 0;
      while (true) {
        Activity.heartbeat(checks);
        boolean cancelled;
        try (CancellationShield shield = Activity.shieldCancellation()) {
          cancelled = Activity.waitForCancelled(Duration.ofMillis(200));
        } catch (ActivityCanceledException e) {
          cancelled = true;
        }
        checks++;
        if (cancelled && Activity.isCancelled()) {
          record(key, "cancelled during monitoring after " + checks + " checks");
          return "Cancelled during monitoring";
        }
      }
    }
  }

  private static void busyWork(long millis) {
    long until = System.nanoTime() + millis * 1_000_000;
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }

  @Test
  void theSeedsCancellableActivityIsInterruptedAndReportedCancelled() {
    Scenario scenario = Scenario.on(perdura).activities(new Cancellable());
    String key = UUID.randomUUID().toString();
    String outcome = scenario.run(scenario.plan("cancellableActivity", key)
        .withStartToClose(300_000).withHeartbeat(2_000).cancelAfter(1_500, "WAIT_CANCELLATION_COMPLETED"));
    assertThat(outcome).isEqualTo("cancelled");
    assertThat(journal.get(key)).last().asString()
        .isIn("interrupted: CANCEL_REQUESTED", "cancelled by heartbeat: CANCEL_REQUESTED");
  }

  @Test
  void anActivityThatReturnsAfterCancellationCompletesWithItsResult() {
    Scenario scenario = Scenario.on(perdura).activities(new Cancellable());
    String key = UUID.randomUUID().toString();
    WorkflowExecution execution = scenario.start(scenario.plan("swallowsCancellation", key)
        .withHeartbeat(2_000).cancelAfter(1_000, "TRY_CANCEL"));
    assertThat(scenario.result(execution)).isEqualTo("cancelled");
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(key));
    var events = perdura.temporalClient().fetchHistory(execution.getWorkflowId()).getHistory().getEventsList();
    assertThat(events).extracting(e -> e.getEventType().name()).doesNotContain("EVENT_TYPE_ACTIVITY_TASK_CANCELED");
  }

  @Test
  void optingOutOfThreadCancelExceptionsLeavesOnlyTheFlag() {
    Scenario scenario = Scenario.on(perdura).activities(new Cancellable());
    String key = UUID.randomUUID().toString();
    scenario.run(scenario.plan("robustActivity", key).withHeartbeat(1_000).cancelAfter(1_000,
        "WAIT_CANCELLATION_COMPLETED"));
    assertThat(journal.get(key)).singleElement().asString()
        .startsWith("saw flag after").endsWith("interrupted=false, reason CANCEL_REQUESTED");
  }

  @Test
  void aShieldDefersTheCancellationToItsEnd() {
    Scenario scenario = Scenario.on(perdura).activities(new Cancellable());
    String key = UUID.randomUUID().toString();
    scenario.run(scenario.plan("syncActivityWithCleanup", key).withHeartbeat(1_000)
        .cancelAfter(800, "WAIT_CANCELLATION_COMPLETED"));
    assertThat(journal.get(key)).containsExactly("critical work done, cancelled=true", "cancelled after cleanup");
  }

  @Test
  void waitForCancelledReturnsOnceTheCancellationArrives() {
    Scenario scenario = Scenario.on(perdura).activities(new Cancellable());
    String key = UUID.randomUUID().toString();
    scenario.run(scenario.plan("syncMonitoringActivity", key).withHeartbeat(1_000)
        .cancelAfter(1_000, "WAIT_CANCELLATION_COMPLETED"));
    assertThat(journal.get(key)).singleElement().asString().startsWith("cancelled during monitoring");
  }

  public static class ReasonReporter {
    @ActivityMethod(noThreadCancelException = true)
    public String reportReason(String key) throws InterruptedException {
      record(key, "attempt " + Activity.info().attempt());
      for (int i = 0; i < 600 && !Activity.isCancelled(); i++) {
        Activity.heartbeat(i);
        Thread.sleep(100);
      }
      ActivityCancellationDetails details = Activity.cancellationDetails().orElseThrow();
      record(key, details.reason().name());
      // Details are set once: asking again gives the same.
      assertThat(Activity.cancellationDetails()).contains(details);
      throw new ActivityCanceledException(details);
    }
  }

  private static String activityId(WorkflowExecution execution) {
    return perdura.temporalClient().getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(execution).build())
        .getPendingActivities(0).getActivityId();
  }

  @Test
  void theReasonSaysWhyTheActivityWasCancelled() {
    Scenario scenario = Scenario.on(perdura).activities(new ReasonReporter());
    var stub = perdura.temporalClient().getWorkflowServiceStubs().blockingStub();

    String terminated = UUID.randomUUID().toString();
    WorkflowExecution first = scenario.start(scenario.plan("reportReason", terminated).withHeartbeat(1_000));
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(terminated));
    scenario.stub(first).terminate("gone");
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(terminated).contains(Reason.NOT_FOUND.name()));

    String paused = UUID.randomUUID().toString();
    WorkflowExecution second = scenario.start(scenario.plan("reportReason", paused).withHeartbeat(1_000));
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(paused));
    stub.pauseActivity(PauseActivityRequest.newBuilder().setNamespace("default").setExecution(second)
        .setId(activityId(second)).setIdentity("operator").build());
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(paused).contains(Reason.PAUSED.name()));
    scenario.stub(second).terminate("done");

    String reset = UUID.randomUUID().toString();
    WorkflowExecution third = scenario.start(scenario.plan("reportReason", reset).withHeartbeat(1_000).withAttempts(0));
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(reset));
    stub.resetActivity(ResetActivityRequest.newBuilder().setNamespace("default").setExecution(third)
        .setId(activityId(third)).setIdentity("operator").build());
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(reset).contains(Reason.RESET.name()));
    // Reset starts over from attempt 1.
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(reset).stream()
        .filter("attempt 1"::equals).count() == 2);
    scenario.stub(third).terminate("done");

    String timedOut = UUID.randomUUID().toString();
    scenario.run(scenario.plan("reportReason", timedOut).withStartToClose(1_500));
    assertThat(journal.get(timedOut)).contains(Reason.TIMED_OUT.name());
  }
}
