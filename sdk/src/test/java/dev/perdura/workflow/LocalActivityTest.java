package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.common.RetryPolicy;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import io.temporal.api.enums.v1.EventType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Local activities: run in the worker, recorded as markers, never run again on replay, cancellable without heartbeats. */
class LocalActivityTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();

  public static class Locals {
    @ActivityMethod
    public String lookup(String key, String value) {
      runs.computeIfAbsent(key + "/" + value, k -> new AtomicInteger()).incrementAndGet();
      return value + " (local=" + Activity.info().local() + ", attempt " + Activity.info().attempt() + ")";
    }

    @ActivityMethod
    public String flaky(String key) {
      int attempt = Activity.info().attempt();
      if (attempt < 3) {
        throw ApplicationFailure.retryable("not yet", "Flaky");
      }
      return "ok on attempt " + attempt;
    }

    @ActivityMethod
    public String longRunning(String key) throws InterruptedException {
      runs.computeIfAbsent(key + "/long", k -> new AtomicInteger()).incrementAndGet();
      Thread.sleep(Duration.ofSeconds(4));
      return "long done";
    }

    /** Never heartbeats: a task-queue activity like this could not learn of a cancellation. */
    @ActivityMethod
    public String slow(String key) {
      try {
        Thread.sleep(Duration.ofMinutes(5));
        return "slept";
      } catch (InterruptedException e) {
        journal.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add("interrupted: "
            + Activity.cancellationDetails().map(d -> d.reason().name()).orElse("none"));
        throw new IllegalStateException(e);
      }
    }
  }

  public static class UsesLocals {
    @WorkflowMethod
    public String run(String key) {
      LocalActivityOptions options = LocalActivityOptions.startToClose(Duration.ofSeconds(10))
          .withRetryPolicy(RetryPolicy.maximumAttempts(5).withInitialInterval(Duration.ofMillis(50)));
      String first = Workflow.executeLocalActivity("lookup", String.class, options, key, "first");
      Workflow.sleep(Duration.ofMillis(200));
      String second = Workflow.executeLocalActivity("lookup", String.class, options, key, "second");
      String flaky = Workflow.executeLocalActivity("flaky", String.class, options, key);
      return first + " | " + second + " | " + flaky;
    }
  }

  public static class CancelsLocal {
    @WorkflowMethod
    public String run(String key) {
      LocalActivityOptions options = LocalActivityOptions.startToClose(Duration.ofMinutes(10));
      ActivityHandle<String> slow = Workflow.startLocalActivity("slow", String.class, options, key);
      Workflow.executeLocalActivity("lookup", String.class, options, key, "meanwhile");
      slow.cancel();
      try {
        return slow.result();
      } catch (ActivityFailure e) {
        return "slow ended with " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  public static class LongLocal {
    private String state = "started";

    @WorkflowMethod
    public String run(String key) {
      String first = Workflow.executeLocalActivity("longRunning", String.class,
          LocalActivityOptions.startToClose(Duration.ofSeconds(30)), key);
      Workflow.sleep(Duration.ofMillis(100));
      state = first + " then " + Workflow.executeLocalActivity("lookup", String.class,
          LocalActivityOptions.startToClose(Duration.ofSeconds(30)), key, "after");
      return state;
    }

    @QueryMethod
    public String state() {
      return state;
    }
  }

  @Test
  void aLocalActivityLongerThanTheWorkflowTaskTimeoutKeepsTheWorkflowAlive() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("long-local");
    Worker worker = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(LongLocal.class).registerActivities(new Locals()).start();
    String key = UUID.randomUUID().toString();
    String workflowId = "long-local-" + key;
    var handle = perdura.client().startWorkflow("LongLocal",
        StartWorkflowOptions.of(workflowId, queue).withTaskTimeout(Duration.ofSeconds(2)), key);
    assertThat(handle.result(String.class)).isEqualTo("long done then after (local=true, attempt 1)");
    assertThat(runs.get(key + "/long").get()).isEqualTo(1);
    var events = perdura.temporalClient().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType()).toList();
    assertThat(events).doesNotContain(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
    assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).count())
        .as("workflow tasks completed to keep the workflow alive").isGreaterThan(3);

    // A worker without the run cached replays that history, markers arriving tasks after their start.
    worker.close();
    Worker cold = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(0));
    perdura.closeAfterTest(cold);
    cold.registerWorkflows(LongLocal.class).registerActivities(new Locals()).start();
    assertThat(perdura.client().workflowHandle(workflowId).query("state", String.class))
        .isEqualTo("long done then after (local=true, attempt 1)");
    assertThat(runs.get(key + "/long").get()).as("replay does not run the local activity again").isEqualTo(1);
  }

  private String worker(int cacheSize) {
    String queue = PerduraTestServer.uniqueQueue("locals");
    Worker worker = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(cacheSize));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(UsesLocals.class, CancelsLocal.class).registerActivities(new Locals()).start();
    return queue;
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {0, 600})
  void localActivitiesRunOnceAndReplayFromTheirMarkers(int cacheSize) {
    String queue = worker(cacheSize);
    String key = UUID.randomUUID().toString();
    String workflowId = "locals-" + key;
    String result = perdura.client().executeWorkflow("UsesLocals", String.class,
        StartWorkflowOptions.of(workflowId, queue), key);
    assertThat(result).isEqualTo("first (local=true, attempt 1) | second (local=true, attempt 1) | ok on attempt 3");
    assertThat(runs.get(key + "/first").get()).as("runs of the first local activity").isEqualTo(1);
    assertThat(runs.get(key + "/second").get()).isEqualTo(1);
    var events = perdura.temporalClient().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType()).toList();
    assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_MARKER_RECORDED)).hasSize(3);
    assertThat(events).doesNotContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  }

  @Test
  void aLocalActivityIsCancelledWithoutHeartbeats() {
    String queue = worker(600);
    String key = UUID.randomUUID().toString();
    String result = perdura.client().executeWorkflow("CancelsLocal", String.class,
        StartWorkflowOptions.of("cancel-local-" + key, queue), key);
    assertThat(result).isEqualTo("slow ended with CanceledFailure");
    assertThat(journal.get(key)).containsExactly("interrupted: CANCEL_REQUESTED");
  }
}
