package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowDescription.WorkflowStatus;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.failure.CanceledFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cancellation of workflow code: a cancel request for the workflow reaches its activities, timers and
 * waits through the root scope; cleanup runs in a detached scope; a child scope cancels only what was
 * started in it. Each test runs with the run cached and, where it says so, with every task replayed
 * from the first event (cache size 0), which checks that cancellation replays deterministically.
 */
class CancellationScopeTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();

  static List<String> journal(String key) {
    return journal.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
  }

  public static class ScopeActivities {
    @ActivityMethod(name = "heartbeat_until_cancelled")
    public String heartbeatUntilCancelled(String key, String name) throws InterruptedException {
      journal(key).add(name + " started");
      try {
        while (true) {
          Thread.sleep(200);
          Activity.heartbeat();
        }
      } catch (ActivityCanceledException | InterruptedException e) {
        // A cancelled activity's thread is interrupted, so a sleep ends first.
        journal(key).add(name + " cancelled");
        throw e;
      }
    }

    @ActivityMethod(name = "record")
    public String record(String key, String entry) {
      journal(key).add(entry);
      return entry;
    }
  }

  static final ActivityOptions HEARTBEATING = ActivityOptions.startToClose(Duration.ofMinutes(2))
      .withHeartbeatTimeout(Duration.ofSeconds(2));
  static final ActivityOptions QUICK = ActivityOptions.startToClose(Duration.ofSeconds(30));

  /** Runs a heartbeating activity; when the workflow is cancelled, undoes it in a detached scope. */
  public static class CleanupWorkflow {
    @WorkflowMethod
    public String run(String key) {
      try {
        Workflow.executeActivity("heartbeat_until_cancelled", String.class, HEARTBEATING, key, "work");
        return "finished";
      } catch (ActivityFailure e) {
        assertThat(Workflow.isCancelRequested()).isTrue();
        assertThat(Workflow.currentCancellationScope().isCancelRequested()).isTrue();
        CancellationScope cleanup = Workflow.newDetachedCancellationScope(
            () -> Workflow.executeActivity("record", String.class, QUICK, key, "cleanup ran"));
        assertThat(cleanup.isCancelRequested()).isFalse();
        cleanup.run();
        throw e;
      }
    }
  }

  /** Sleeps for an hour unless cancelled, and says which. */
  public static class SleepingWorkflow {
    @WorkflowMethod
    public String run(String key) {
      try {
        Workflow.sleep(Duration.ofHours(1));
        return "slept";
      } catch (CanceledFailure e) {
        Workflow.newDetachedCancellationScope(
            () -> Workflow.executeActivity("record", String.class, QUICK, key, "woken")).run();
        return "sleep cancelled";
      }
    }
  }

  /** Waits on a condition that never holds. */
  public static class AwaitingWorkflow {
    @WorkflowMethod
    public String run(String key) {
      Workflow.await(() -> false);
      return "the condition held";
    }
  }

  /** Races two activities in a child scope and cancels the loser; the workflow itself is not cancelled. */
  public static class RaceWorkflow {
    @WorkflowMethod
    public String run(String key) {
      List<ActivityHandle<String>> handles = new java.util.ArrayList<>();
      CancellationScope race = Workflow.newCancellationScope(() -> {
        handles.add(Workflow.startActivity("record", String.class, QUICK, key, "fast"));
        handles.add(Workflow.startActivity("heartbeat_until_cancelled", String.class, HEARTBEATING, key, "slow"));
      });
      race.run();
      Workflow.await(() -> handles.get(0).isDone());
      race.cancel();
      String loser;
      try {
        handles.get(1).result();
        loser = "slow finished";
      } catch (ActivityFailure e) {
        loser = "slow " + e.getCause().getClass().getSimpleName();
      }
      // The workflow's own scope is untouched, and a timer still works in it.
      Workflow.sleep(Duration.ofMillis(10));
      return handles.get(0).result() + ", " + loser + ", workflow cancelled: " + Workflow.isCancelRequested();
    }
  }

  /** Everything started in a scope that is already cancelled is cancelled at once. */
  public static class AlreadyCancelledWorkflow {
    @WorkflowMethod
    public String run(String key) {
      List<String> seen = new java.util.ArrayList<>();
      CancellationScope scope = Workflow.newCancellationScope(() -> {
        Workflow.currentCancellationScope().cancel();
        try {
          Workflow.executeActivity("record", String.class, QUICK, key, "never");
          seen.add("activity ran");
        } catch (ActivityFailure e) {
          seen.add("activity " + e.getCause().getClass().getSimpleName());
        }
        try {
          Workflow.sleep(Duration.ofMinutes(5));
          seen.add("slept");
        } catch (CanceledFailure e) {
          seen.add("sleep cancelled");
        }
      });
      scope.run();
      return String.join(", ", seen);
    }
  }

  private String worker(int cacheSize) {
    String queue = PerduraTestServer.uniqueQueue("scope");
    Worker worker = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(cacheSize));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(CleanupWorkflow.class, SleepingWorkflow.class, AwaitingWorkflow.class,
            RaceWorkflow.class, AlreadyCancelledWorkflow.class)
        .registerActivities(new ScopeActivities())
        .start();
    return queue;
  }

  private WorkflowHandle start(String type, String queue, String key) {
    return perdura.client().startWorkflow(type,
        StartWorkflowOptions.of(type + "-" + key, queue).withExecutionTimeout(Duration.ofMinutes(2)), key);
  }

  private List<String> history(String workflowId) {
    return perdura.temporalClient().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType().name()).toList();
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void cancellingTheWorkflowCancelsItsActivityAndCleanupRunsInADetachedScope(int cacheSize) {
    String queue = worker(cacheSize);
    String key = UUID.randomUUID().toString();
    WorkflowHandle handle = start("CleanupWorkflow", queue, key);
    await().atMost(Duration.ofSeconds(20)).until(() -> journal(key).contains("work started"));

    handle.cancel();

    await().atMost(Duration.ofSeconds(30)).until(() -> handle.describe().status() == WorkflowStatus.CANCELED);
    assertThat(journal(key)).contains("cleanup ran");
    // TRY_CANCEL: the workflow went on at once; the activity hears of it at its next heartbeat.
    await().atMost(Duration.ofSeconds(20)).until(() -> journal(key).contains("work cancelled"));
    assertThat(history(handle.workflowId())).containsSubsequence(
        "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED",
        "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED",
        "EVENT_TYPE_ACTIVITY_TASK_COMPLETED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED");
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void cancellingTheWorkflowCancelsItsTimerAndTheSleepThrows(int cacheSize) {
    String queue = worker(cacheSize);
    String key = UUID.randomUUID().toString();
    WorkflowHandle handle = start("SleepingWorkflow", queue, key);
    await().atMost(Duration.ofSeconds(20))
        .until(() -> history(handle.workflowId()).contains("EVENT_TYPE_TIMER_STARTED"));

    handle.cancel();

    assertThat(handle.result(String.class)).isEqualTo("sleep cancelled");
    assertThat(journal(key)).containsExactly("woken");
    assertThat(history(handle.workflowId())).containsSubsequence(
        "EVENT_TYPE_TIMER_STARTED", "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED", "EVENT_TYPE_TIMER_CANCELED",
        "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED");
  }

  @Test
  void aWaitThatTheCancellationInterruptsCancelsTheWorkflow() {
    String queue = worker(600);
    String key = UUID.randomUUID().toString();
    WorkflowHandle handle = start("AwaitingWorkflow", queue, key);
    await().atMost(Duration.ofSeconds(20))
        .until(() -> history(handle.workflowId()).contains("EVENT_TYPE_WORKFLOW_TASK_COMPLETED"));

    handle.cancel();

    await().atMost(Duration.ofSeconds(30)).until(() -> handle.describe().status() == WorkflowStatus.CANCELED);
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void cancellingAChildScopeCancelsOnlyWhatStartedInIt(int cacheSize) {
    String queue = worker(cacheSize);
    String key = UUID.randomUUID().toString();
    WorkflowHandle handle = start("RaceWorkflow", queue, key);

    assertThat(handle.result(String.class))
        .isEqualTo("fast, slow CanceledFailure, workflow cancelled: false");
    await().atMost(Duration.ofSeconds(20)).until(() -> journal(key).contains("slow cancelled"));
    assertThat(history(handle.workflowId())).contains("EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED")
        .doesNotContain("EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED");
  }

  @Test
  void workStartedInAnAlreadyCancelledScopeIsCancelledWithoutReachingTheServer() {
    String queue = worker(600);
    String key = UUID.randomUUID().toString();
    WorkflowHandle handle = start("AlreadyCancelledWorkflow", queue, key);

    assertThat(handle.result(String.class))
        .isEqualTo("activity CanceledFailure, sleep cancelled");
    assertThat(journal(key)).isEmpty();
    assertThat(history(handle.workflowId()))
        .doesNotContain("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "EVENT_TYPE_TIMER_STARTED");
  }
}
