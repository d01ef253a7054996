package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.common.RetryPolicy;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.failure.WorkflowFailedException;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Workflow code in Perdura's SDK: signals, failures, replay across workers, non-determinism, cross-SDK calls. */
class WorkflowRuntimeTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Steps {
    @ActivityMethod
    public String step(String name) {
      return "step " + name;
    }

    @ActivityMethod
    public String refuse(String why) {
      throw ApplicationFailure.nonRetryable("refused: " + why, "Refusal");
    }
  }

  /** Collects signalled items until told to finish; then runs one activity per item. */
  public static class Collector {
    private final List<String> items = new ArrayList<>();
    private boolean done;

    @WorkflowMethod(name = "collector")
    public List<String> run(String prefix) {
      Workflow.await(() -> done);
      List<String> results = new ArrayList<>();
      for (String item : items) {
        results.add(Workflow.executeActivity("step", String.class,
            ActivityOptions.startToClose(Duration.ofSeconds(30)), prefix + item));
      }
      return results;
    }

    @SignalMethod
    public void add(String item) {
      items.add(item);
    }

    @SignalMethod(name = "finish")
    public void done() {
      done = true;
    }

    @QueryMethod
    public List<String> items() {
      return List.copyOf(items);
    }
  }

  public static class Refused {
    @WorkflowMethod
    public String run() {
      try {
        return Workflow.executeActivity("refuse", String.class, ActivityOptions.startToClose(Duration.ofSeconds(30))
            .withRetryPolicy(RetryPolicy.maximumAttempts(3)), "no reason");
      } catch (ActivityFailure e) {
        ApplicationFailure cause = (ApplicationFailure) e.getCause();
        throw ApplicationFailure.nonRetryable("gave up after " + cause.type() + ": " + cause.getMessage(), "GaveUp");
      }
    }
  }

  private Worker worker(String queue, Class<?>... workflows) {
    Worker worker = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(workflows).registerActivities(new Steps()).start();
    return worker;
  }

  @Test
  void signalsReachHandlersAndTheWorkflowRunsActivitiesInOrder() {
    String queue = PerduraTestServer.uniqueQueue("collector");
    worker(queue, Collector.class);
    WorkflowHandle handle = perdura.client().startWorkflow("collector",
        StartWorkflowOptions.of("collect-" + UUID.randomUUID(), queue), "item-");
    handle.signal("add", "a");
    handle.signal("add", "b");
    await().atMost(Duration.ofSeconds(20)).until(() -> handle.query("items", List.class).size() == 2);
    assertThat(handle.query("items", List.class)).containsExactly("a", "b");
    assertThatThrownBy(() -> handle.query("nothing", List.class))
        .isInstanceOf(dev.perdura.client.ServiceException.class).hasMessageContaining("no handler for query 'nothing'");
    handle.signal("finish");
    assertThat(handle.result(List.class)).containsExactly("step item-a", "step item-b");
    // A closed workflow still answers from its replayed history.
    assertThat(handle.query("items", List.class)).containsExactly("a", "b");
  }

  @Test
  void anActivityFailureReachesTheWorkflowWithItsCauseAndCanFailIt() {
    String queue = PerduraTestServer.uniqueQueue("refused");
    worker(queue, Refused.class);
    WorkflowHandle handle = perdura.client().startWorkflow("Refused",
        StartWorkflowOptions.of("refused-" + UUID.randomUUID(), queue));
    assertThatThrownBy(() -> handle.result(String.class))
        .isInstanceOfSatisfying(WorkflowFailedException.class,
            e -> assertThat(e.closeStatus()).isEqualTo(WorkflowFailedException.CloseStatus.FAILED))
        .hasMessageContaining("gave up after Refusal: refused: no reason");
  }

  /** Sleeps between two activities: long enough to stop one worker and start another. */
  public static class TwoSteps {
    @WorkflowMethod(name = "two-steps")
    public String run() {
      String first = Workflow.executeActivity("step", String.class, ActivityOptions.startToClose(Duration.ofSeconds(30)),
          "one");
      Workflow.sleep(Duration.ofSeconds(2));
      String second = Workflow.executeActivity("step", String.class, ActivityOptions.startToClose(Duration.ofSeconds(30)),
          "two");
      return first + ", " + second + " at " + Workflow.info().workflowId();
    }
  }

  /** Registered under the same name, but starts with a timer: not what the history says. */
  public static class ChangedTwoSteps {
    @WorkflowMethod(name = "two-steps")
    public String run() {
      Workflow.sleep(Duration.ofSeconds(1));
      return "changed";
    }
  }

  @Test
  void anotherWorkerPicksUpMidWorkflowByReplayingTheHistory() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("restart");
    Worker first = worker(queue, TwoSteps.class);
    String workflowId = "restart-" + UUID.randomUUID();
    WorkflowHandle handle = perdura.client().startWorkflow("two-steps", StartWorkflowOptions.of(workflowId, queue));
    await().atMost(Duration.ofSeconds(20)).until(() -> perdura.temporalClient().fetchHistory(workflowId).getHistory()
        .getEventsList().stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED));
    first.shutdown();
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();

    worker(queue, TwoSteps.class);
    assertThat(handle.result(String.class)).isEqualTo("step one, step two at " + workflowId);
  }

  @Test
  void codeThatNoLongerMatchesItsHistoryFailsTheTaskAsNonDeterministic() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("changed");
    Worker first = worker(queue, TwoSteps.class);
    String workflowId = "changed-" + UUID.randomUUID();
    WorkflowHandle handle = perdura.client().startWorkflow("two-steps", StartWorkflowOptions.of(workflowId, queue));
    await().atMost(Duration.ofSeconds(20)).until(() -> perdura.temporalClient().fetchHistory(workflowId).getHistory()
        .getEventsList().stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED));
    first.shutdown();
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();

    worker(queue, ChangedTwoSteps.class);
    await().atMost(Duration.ofSeconds(30)).until(() -> perdura.temporalClient().fetchHistory(workflowId).getHistory()
        .getEventsList().stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            && e.getWorkflowTaskFailedEventAttributes().getCause()
                == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
            && e.getWorkflowTaskFailedEventAttributes().getFailure().getMessage().contains("ACTIVITY_TASK_SCHEDULED (event 5, id 1), but the code made StartTimer")));
    assertThat(handle.describe().status()).isEqualTo(dev.perdura.client.WorkflowDescription.WorkflowStatus.RUNNING);
    // Only the first failure is reported; later attempts time out instead of spinning.
    assertThat(perdura.temporalClient().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).hasSize(1);
    handle.terminate("test over");
  }

  /** Calls an activity that an official Temporal SDK worker serves. */
  public static class CrossSdk {
    @WorkflowMethod
    public String run(String activityQueue) {
      return Workflow.executeActivity("Shout", String.class,
          ActivityOptions.startToClose(Duration.ofSeconds(30)).withTaskQueue(activityQueue), "hello");
    }
  }

  @io.temporal.activity.ActivityInterface
  public interface Shouting {
    @io.temporal.activity.ActivityMethod(name = "Shout")
    String shout(String text);
  }

  public static class ShoutingImpl implements Shouting {
    @Override
    public String shout(String text) {
      return text.toUpperCase() + "!";
    }
  }

  @Test
  void aPerduraWorkflowCallsAnActivityOfAnOfficialTemporalWorker() {
    String activityQueue = PerduraTestServer.uniqueQueue("temporal-activities");
    var factory = perdura.temporalWorkerFactory();
    factory.newWorker(activityQueue).registerActivitiesImplementations(new ShoutingImpl());
    factory.start();
    String queue = PerduraTestServer.uniqueQueue("cross");
    worker(queue, CrossSdk.class);
    assertThat(perdura.client().executeWorkflow("CrossSdk", String.class,
        StartWorkflowOptions.of("cross-" + UUID.randomUUID(), queue), activityQueue)).isEqualTo("HELLO!");
  }
}
