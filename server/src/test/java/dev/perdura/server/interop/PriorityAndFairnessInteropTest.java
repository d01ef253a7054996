package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.Priority;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Priority and fairness seen from the official Temporal Java SDK: a workflow puts a backlog of
 * activities with priority keys and fairness keys into a queue nobody polls yet; then a worker with a
 * single activity slot drains it, and the order it ran them in is the order the server dispatched them.
 */
class PriorityAndFairnessInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  /** Labels in the order the activities ran, by test key. */
  static final Map<String, List<String>> runs = new ConcurrentHashMap<>();

  /** One activity to schedule; 0 / empty fields leave the option unset. */
  public record Spec(String label, int priorityKey, String fairnessKey, float fairnessWeight) {}

  public record Backlog(String key, String activityQueue, List<Spec> activities) {}

  @ActivityInterface
  public interface Recorder {
    void ran(String key, String label);
  }

  public static class RecorderImpl implements Recorder {
    @Override
    public void ran(String key, String label) {
      runs.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(label);
    }
  }

  @WorkflowInterface
  public interface BacklogWorkflow {
    @WorkflowMethod
    int run(Backlog backlog);
  }

  public static class BacklogWorkflowImpl implements BacklogWorkflow {
    @Override
    public int run(Backlog backlog) {
      List<Promise<Void>> all = new ArrayList<>();
      for (Spec spec : backlog.activities()) {
        ActivityOptions.Builder options = ActivityOptions.newBuilder()
            .setTaskQueue(backlog.activityQueue())
            .setStartToCloseTimeout(Duration.ofSeconds(30));
        if (spec.priorityKey() > 0 || !spec.fairnessKey().isEmpty()) {
          Priority.Builder priority = Priority.newBuilder().setPriorityKey(spec.priorityKey());
          if (!spec.fairnessKey().isEmpty()) {
            priority.setFairnessKey(spec.fairnessKey()).setFairnessWeight(spec.fairnessWeight());
          }
          options.setPriority(priority.build());
        }
        Recorder recorder = Workflow.newActivityStub(Recorder.class, options.build());
        all.add(Async.procedure(recorder::ran, backlog.key(), spec.label()));
      }
      Promise.allOf(all).get();
      return all.size();
    }
  }

  private String workflowQueue;

  /** Starts the backlog workflow (its own worker) and waits until every activity waits in the queue. */
  private WorkflowExecution backlog(Backlog backlog, Priority workflowPriority) {
    workflowQueue = PerduraServerExtension.uniqueQueue("backlog-workflows");
    WorkerFactory factory = perdura.newWorkerFactory();
    factory.newWorker(workflowQueue).registerWorkflowImplementationTypes(BacklogWorkflowImpl.class);
    factory.start();
    WorkflowOptions.Builder options = WorkflowOptions.newBuilder()
        .setTaskQueue(workflowQueue)
        .setWorkflowId("backlog-" + UUID.randomUUID());
    if (workflowPriority != null) {
      options.setPriority(workflowPriority);
    }
    BacklogWorkflow workflow = perdura.client().newWorkflowStub(BacklogWorkflow.class, options.build());
    WorkflowExecution execution = WorkflowClient.start(workflow::run, backlog);
    await().atMost(Duration.ofSeconds(60))
        .until(() -> describe(execution).getPendingActivitiesCount() == backlog.activities().size());
    return execution;
  }

  private static DescribeWorkflowExecutionResponse describe(WorkflowExecution execution) {
    return perdura.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(execution).build());
  }

  /** A worker that runs one activity at a time, so the run order is the dispatch order. */
  private static void drain(String activityQueue, WorkflowExecution execution, int expected) {
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(activityQueue, WorkerOptions.newBuilder()
        .setMaxConcurrentActivityExecutionSize(1)
        .setMaxConcurrentActivityTaskPollers(1)
        .build());
    worker.registerActivitiesImplementations(new RecorderImpl());
    factory.start();
    int ran = WorkflowStub.fromTyped(perdura.client().newWorkflowStub(BacklogWorkflow.class, execution.getWorkflowId()))
        .getResult(Integer.class);
    assertThat(ran).isEqualTo(expected);
  }

  @Test
  void aBacklogOfMixedPrioritiesIsDispatchedInPriorityOrder() {
    String key = UUID.randomUUID().toString();
    String activityQueue = PerduraServerExtension.uniqueQueue("priority-activities");
    // Keys 1..5 and unset (0, which means the default 3), interleaved in schedule order.
    List<Spec> specs = IntStream.range(0, 100)
        .mapToObj(i -> new Spec(i + ":" + (i * 7 % 6), i * 7 % 6, "", 0f))
        .toList();
    WorkflowExecution execution = backlog(new Backlog(key, activityQueue, specs), null);
    drain(activityQueue, execution, specs.size());

    List<Integer> effectiveKeys = runs.get(key).stream()
        .map(label -> Integer.parseInt(label.substring(label.indexOf(':') + 1)))
        .map(k -> k == 0 ? 3 : k)
        .toList();
    assertThat(effectiveKeys).hasSize(100).isSorted();
    // Within one priority the backlog keeps its schedule order.
    List<Integer> firstOfKeyOne = runs.get(key).stream().filter(l -> l.endsWith(":1"))
        .map(l -> Integer.parseInt(l.substring(0, l.indexOf(':')))).toList();
    assertThat(firstOfKeyOne).isSorted();
  }

  @Test
  void backloggedFairnessKeysShareDispatchByWeightAndALightKeyStillProgresses() {
    String key = UUID.randomUUID().toString();
    String activityQueue = PerduraServerExtension.uniqueQueue("fair-activities");
    List<Spec> specs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      specs.add(new Spec("heavy", 0, "tenant-heavy", 3f));
    }
    for (int i = 0; i < 200; i++) {
      specs.add(new Spec("light", 0, "tenant-light", 1f));
    }
    for (int i = 0; i < 20; i++) {
      specs.add(new Spec("tiny", 0, "tenant-tiny", 0.1f));
    }
    WorkflowExecution execution = backlog(new Backlog(key, activityQueue, specs), null);
    drain(activityQueue, execution, specs.size());

    List<String> first200 = runs.get(key).subList(0, 200);
    int heavy = Collections.frequency(first200, "heavy");
    int light = Collections.frequency(first200, "light");
    assertThat((double) heavy / (heavy + light)).as("heavy share of heavy + light").isBetween(0.675, 0.825);
    assertThat(Collections.frequency(first200, "tiny")).as("tiny key dispatches").isPositive();
  }

  @Test
  void activitiesInheritTheWorkflowPriorityUnlessTheySetTheirOwn() {
    String key = UUID.randomUUID().toString();
    String activityQueue = PerduraServerExtension.uniqueQueue("inherit-activities");
    List<Spec> specs = List.of(new Spec("inherits", 0, "", 0f), new Spec("own", 5, "", 0f));
    WorkflowExecution execution = backlog(new Backlog(key, activityQueue, specs),
        Priority.newBuilder().setPriorityKey(1).build());

    Map<String, Integer> keys = new ConcurrentHashMap<>();
    describe(execution).getPendingActivitiesList().forEach(a -> keys.put(
        a.getActivityId(), a.getPriority().getPriorityKey()));
    assertThat(keys.values()).containsExactlyInAnyOrder(1, 5);
    drain(activityQueue, execution, specs.size());
    assertThat(runs.get(key)).containsExactly("inherits", "own");
  }
}
