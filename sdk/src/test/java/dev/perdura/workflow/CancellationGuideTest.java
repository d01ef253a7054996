package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed's cancellation guide in Perdura's SDK alone: a workflow starts a heartbeating activity,
 * sleeps, and cancels it through its handle; with each cancellation type.
 */
class CancellationGuideTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();

  public record ComposeArgsInput(int arg1, int arg2, String key, String cancellationType) {}

  public static class GuideActivities {
    @ActivityMethod(name = "cancellable_activity")
    public void cancellableActivity(ComposeArgsInput input) throws InterruptedException {
      List<String> seen = journal.computeIfAbsent(input.key(), k -> new CopyOnWriteArrayList<>());
      try {
        while (true) {
          seen.add("Heartbeating cancel activity");
          Thread.sleep(500);
          Activity.heartbeat("some details");
        }
      } catch (ActivityCanceledException | InterruptedException e) {
        seen.add("Activity cancelled");
        throw e;
      }
    }

    @ActivityMethod(name = "run_activity")
    public int runActivity(ComposeArgsInput input) {
      return input.arg1() + input.arg2();
    }
  }

  public static class GreetingWorkflow {
    @WorkflowMethod
    public String run(ComposeArgsInput input) {
      int sum = Workflow.executeActivity("run_activity", Integer.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)), input);
      ActivityHandle<Void> handle = Workflow.startActivity("cancellable_activity", Void.class,
          ActivityOptions.startToClose(Duration.ofMinutes(5))
              .withHeartbeatTimeout(Duration.ofSeconds(2))
              .withCancellationType(ActivityCancellationType.valueOf(input.cancellationType())),
          input);
      Workflow.sleep(Duration.ofSeconds(2));
      handle.cancel();
      try {
        handle.result();
        return "sum " + sum + ", activity completed";
      } catch (ActivityFailure e) {
        return "sum " + sum + ", activity " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  private String worker() {
    String queue = PerduraTestServer.uniqueQueue("guide");
    Worker worker = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(GreetingWorkflow.class).registerActivities(new GuideActivities()).start();
    return queue;
  }

  @ParameterizedTest
  @EnumSource(ActivityCancellationType.class)
  void theWorkflowCancelsTheHeartbeatingActivityThroughItsHandle(ActivityCancellationType type) {
    String queue = worker();
    String key = UUID.randomUUID().toString();
    String workflowId = "guide-" + key;
    WorkflowHandle handle = perdura.client().startWorkflow("GreetingWorkflow",
        StartWorkflowOptions.of(workflowId, queue).withExecutionTimeout(Duration.ofMinutes(2)),
        new ComposeArgsInput(1, 2, key, type.name()));
    assertThat(handle.result(String.class)).isEqualTo("sum 3, activity CanceledFailure");

    var history = perdura.temporalClient().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType().name()).toList();
    if (type == ActivityCancellationType.ABANDON) {
      assertThat(history).doesNotContain("EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED");
    } else {
      assertThat(history).contains("EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED");
      // The activity hears of it at a heartbeat and cleans up.
      await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(key).contains("Activity cancelled"));
    }
    if (type == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED) {
      // The workflow waited for the activity to end, so the cleanup came first.
      assertThat(journal.get(key)).contains("Activity cancelled");
      assertThat(history).containsSubsequence("EVENT_TYPE_ACTIVITY_TASK_CANCELED",
          "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED");
    }
    assertThat(journal.get(key)).contains("Heartbeating cancel activity");
  }
}
