package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TerminatedFailure;
import io.temporal.common.RetryOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The official Temporal Java SDK, as client and worker, running workflows on a Perdura server. */
class WorkflowInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  @ActivityInterface
  public interface Greetings {
    String greet(String name);
  }

  public static class GreetingsImpl implements Greetings {
    final AtomicInteger calls = new AtomicInteger();
    final int failFirst;

    GreetingsImpl(int failFirst) {
      this.failFirst = failFirst;
    }

    @Override
    public String greet(String name) {
      if (calls.incrementAndGet() <= failFirst) {
        throw ApplicationFailure.newFailure("not yet", "Flaky");
      }
      return "Hello, " + name + "!";
    }
  }

  @WorkflowInterface
  public interface GreetingWorkflow {
    @WorkflowMethod
    String greet(String name);
  }

  public static class GreetingWorkflowImpl implements GreetingWorkflow {
    private final Greetings activities =
        Workflow.newActivityStub(
            Greetings.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(10))
                .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).build())
                .build());

    @Override
    public String greet(String name) {
      Workflow.sleep(Duration.ofMillis(200));
      return activities.greet(name);
    }
  }

  @WorkflowInterface
  public interface WaitingWorkflow {
    @WorkflowMethod
    String run();

    @SignalMethod
    void add(String item);

    @SignalMethod
    void finish();

    @QueryMethod
    List<String> items();
  }

  public static class WaitingWorkflowImpl implements WaitingWorkflow {
    private final List<String> items = new java.util.ArrayList<>();
    private boolean done;

    @Override
    public String run() {
      Workflow.await(() -> done);
      return String.join(",", items);
    }

    @Override
    public void add(String item) {
      items.add(item);
    }

    @Override
    public void finish() {
      done = true;
    }

    @Override
    public List<String> items() {
      return items;
    }
  }

  @WorkflowInterface
  public interface CountdownWorkflow {
    @WorkflowMethod
    int count(int remaining, int total);
  }

  public static class CountdownWorkflowImpl implements CountdownWorkflow {
    @Override
    public int count(int remaining, int total) {
      if (remaining == 0) {
        return total;
      }
      return Workflow.newContinueAsNewStub(CountdownWorkflow.class).count(remaining - 1, total + remaining);
    }
  }

  private String startWorker(String prefix, GreetingsImpl activities) {
    String queue = PerduraServerExtension.uniqueQueue(prefix);
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(
        GreetingWorkflowImpl.class, WaitingWorkflowImpl.class, CountdownWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities);
    factory.start();
    return queue;
  }

  private WorkflowOptions options(String queue, String workflowId) {
    return WorkflowOptions.newBuilder()
        .setTaskQueue(queue)
        .setWorkflowId(workflowId)
        .setWorkflowExecutionTimeout(Duration.ofMinutes(2))
        .build();
  }

  @Test
  void runsAWorkflowWithATimerAndARetriedActivity() {
    GreetingsImpl activities = new GreetingsImpl(2);
    String queue = startWorker("greet", activities);
    String workflowId = "greet-" + UUID.randomUUID();
    GreetingWorkflow workflow =
        perdura.client().newWorkflowStub(GreetingWorkflow.class, options(queue, workflowId));

    assertThat(workflow.greet("Perdura")).isEqualTo("Hello, Perdura!");
    assertThat(activities.calls).hasValue(3);

    var history = perdura.client().fetchHistory(workflowId).getHistory().getEventsList();
    assertThat(history).extracting(e -> e.getEventType())
        .contains(EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_TIMER_FIRED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    var started = history.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED).toList();
    assertThat(started).hasSize(1);
    assertThat(started.get(0).getActivityTaskStartedEventAttributes().getAttempt()).isEqualTo(3);
    for (int i = 0; i < history.size(); i++) {
      assertThat(history.get(i).getEventId()).isEqualTo(i + 1);
    }
  }

  @Test
  void theOfficialSdksEagerWorkflowStartGetsTheFirstTaskInTheStartResponse() {
    GreetingsImpl activities = new GreetingsImpl(0);
    String queue = startWorker("eager", activities);
    String workflowId = "eager-" + UUID.randomUUID();
    GreetingWorkflow workflow = perdura.client().newWorkflowStub(GreetingWorkflow.class,
        WorkflowOptions.newBuilder(options(queue, workflowId)).setDisableEagerExecution(false).build());

    assertThat(workflow.greet("eager")).isEqualTo("Hello, eager!");
    var history = perdura.client().fetchHistory(workflowId).getHistory().getEventsList();
    assertThat(history.get(2).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    // Started by the start request itself, in the change that scheduled it.
    assertThat(history.get(2).getEventTime()).isEqualTo(history.get(1).getEventTime());
    assertThat(history.get(2).getWorkflowTaskStartedEventAttributes().getIdentity())
        .isEqualTo(perdura.client().getOptions().getIdentity());
  }

  @Test
  void activityFailureReachesTheWorkflowAndFailsIt() {
    GreetingsImpl activities = new GreetingsImpl(Integer.MAX_VALUE);
    String queue = startWorker("fail", activities);
    WorkflowOptions options = options(queue, "fail-" + UUID.randomUUID());
    GreetingWorkflow workflow = perdura.client().newWorkflowStub(GreetingWorkflow.class,
        WorkflowOptions.newBuilder(options).build());
    // The activity stub retries without limit, so cap it by terminating after a few attempts.
    WorkflowClient.start(workflow::greet, "x");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> activities.calls.get() >= 3);
    WorkflowStub.fromTyped(workflow).terminate("enough");
    assertThatThrownBy(() -> WorkflowStub.fromTyped(workflow).getResult(String.class))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(TerminatedFailure.class);
  }

  @Test
  void signalsAndQueriesReachTheWorkflow() {
    String queue = startWorker("signal", new GreetingsImpl(0));
    WaitingWorkflow workflow =
        perdura.client().newWorkflowStub(WaitingWorkflow.class, options(queue, "wait-" + UUID.randomUUID()));
    WorkflowClient.start(workflow::run);
    workflow.add("a");
    workflow.add("b");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> workflow.items().equals(List.of("a", "b")));
    workflow.finish();
    assertThat(WorkflowStub.fromTyped(workflow).getResult(String.class)).isEqualTo("a,b");
    // A closed workflow still answers queries from its history.
    assertThat(workflow.items()).containsExactly("a", "b");
  }

  @Test
  void cancelAndTerminateCloseTheWorkflow() {
    String queue = startWorker("cancel", new GreetingsImpl(0));
    WaitingWorkflow toCancel =
        perdura.client().newWorkflowStub(WaitingWorkflow.class, options(queue, "cancel-" + UUID.randomUUID()));
    WorkflowClient.start(toCancel::run);
    WorkflowStub.fromTyped(toCancel).cancel();
    assertThatThrownBy(() -> WorkflowStub.fromTyped(toCancel).getResult(String.class))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);

    WaitingWorkflow toTerminate =
        perdura.client().newWorkflowStub(WaitingWorkflow.class, options(queue, "terminate-" + UUID.randomUUID()));
    WorkflowClient.start(toTerminate::run);
    WorkflowStub.fromTyped(toTerminate).terminate("test says so");
    assertThatThrownBy(() -> WorkflowStub.fromTyped(toTerminate).getResult(String.class))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(TerminatedFailure.class);
  }

  @Test
  void runAndExecutionTimeoutsTimeTheWorkflowOut() {
    String queue = startWorker("timeouts", new GreetingsImpl(0));
    for (WorkflowOptions.Builder options : List.of(
        WorkflowOptions.newBuilder().setWorkflowRunTimeout(Duration.ofSeconds(1)),
        WorkflowOptions.newBuilder().setWorkflowExecutionTimeout(Duration.ofSeconds(1)))) {
      String workflowId = "timeout-" + UUID.randomUUID();
      WaitingWorkflow waiting = perdura.client().newWorkflowStub(WaitingWorkflow.class,
          options.setTaskQueue(queue).setWorkflowId(workflowId).build());
      WorkflowClient.start(waiting::run);
      assertThatThrownBy(() -> WorkflowStub.fromTyped(waiting).getResult(String.class))
          .isInstanceOf(WorkflowFailedException.class)
          .hasCauseInstanceOf(io.temporal.failure.TimeoutFailure.class);
      assertThat(perdura.client().fetchHistory(workflowId).getLastEvent().getEventType())
          .isEqualTo(io.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
    }
  }

  @Test
  void startIsIdempotentAndASecondStartConflicts() {
    String queue = startWorker("dup", new GreetingsImpl(0));
    String workflowId = "dup-" + UUID.randomUUID();
    WaitingWorkflow first = perdura.client().newWorkflowStub(WaitingWorkflow.class, options(queue, workflowId));
    WorkflowExecution execution = WorkflowClient.start(first::run);

    WaitingWorkflow second = perdura.client().newWorkflowStub(WaitingWorkflow.class, options(queue, workflowId));
    assertThatThrownBy(() -> WorkflowClient.start(second::run))
        .isInstanceOfSatisfying(WorkflowExecutionAlreadyStarted.class,
            e -> assertThat(e.getExecution().getRunId()).isEqualTo(execution.getRunId()));

    // The same request id returns the same run instead of a conflict.
    var request = io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.newBuilder()
        .setNamespace("default")
        .setWorkflowId("dedupe-" + UUID.randomUUID())
        .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName("WaitingWorkflow"))
        .setTaskQueue(io.temporal.api.taskqueue.v1.TaskQueue.newBuilder().setName(queue))
        .setRequestId(UUID.randomUUID().toString())
        .build();
    var stub = perdura.service().blockingStub();
    var one = stub.startWorkflowExecution(request);
    var two = stub.startWorkflowExecution(request);
    assertThat(two.getRunId()).isEqualTo(one.getRunId());
    first.finish();
  }

  @Test
  void continueAsNewFollowsTheChainToTheLastRun() {
    String queue = startWorker("can", new GreetingsImpl(0));
    String workflowId = "can-" + UUID.randomUUID();
    CountdownWorkflow workflow = perdura.client().newWorkflowStub(CountdownWorkflow.class, options(queue, workflowId));
    assertThat(workflow.count(3, 0)).isEqualTo(6);
    long count = perdura.service().blockingStub().countWorkflowExecutions(
        CountWorkflowExecutionsRequest.newBuilder().setNamespace("default")
            .setQuery("WorkflowId = '" + workflowId + "' AND ExecutionStatus = 'ContinuedAsNew'").build()).getCount();
    assertThat(count).isEqualTo(3);
  }

  @Test
  void describeAndListReportTheExecution() {
    String queue = startWorker("describe", new GreetingsImpl(0));
    String workflowId = "describe-" + UUID.randomUUID();
    GreetingWorkflow workflow = perdura.client().newWorkflowStub(GreetingWorkflow.class, options(queue, workflowId));
    workflow.greet("list");
    var description = perdura.service().blockingStub().describeWorkflowExecution(
        DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default")
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
    assertThat(description.getWorkflowExecutionInfo().getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    assertThat(description.getWorkflowExecutionInfo().getType().getName()).isEqualTo("GreetingWorkflow");
    assertThat(description.getPendingActivitiesCount()).isZero();

    var listed = perdura.service().blockingStub().listWorkflowExecutions(
        ListWorkflowExecutionsRequest.newBuilder().setNamespace("default")
            .setQuery("WorkflowId = '" + workflowId + "'").build());
    assertThat(listed.getExecutionsList()).singleElement()
        .satisfies(info -> assertThat(info.getTaskQueue()).isEqualTo(queue));
  }

  @Test
  void activityFailureIsReportedWithItsCause() {
    GreetingsImpl activities = new GreetingsImpl(Integer.MAX_VALUE);
    String queue = PerduraServerExtension.uniqueQueue("actfail");
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(LimitedRetriesWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities);
    factory.start();
    GreetingWorkflow workflow = perdura.client().newWorkflowStub(GreetingWorkflow.class,
        options(queue, "limited-" + UUID.randomUUID()));
    assertThatThrownBy(() -> workflow.greet("x"))
        .isInstanceOf(WorkflowFailedException.class)
        .cause().isInstanceOf(ActivityFailure.class)
        .cause().isInstanceOf(ApplicationFailure.class).hasMessageContaining("not yet");
    assertThat(activities.calls).hasValue(2);
  }

  public static class LimitedRetriesWorkflowImpl implements GreetingWorkflow {
    @Override
    public String greet(String name) {
      Greetings activities = Workflow.newActivityStub(Greetings.class,
          ActivityOptions.newBuilder()
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .setRetryOptions(RetryOptions.newBuilder()
                  .setInitialInterval(Duration.ofMillis(50)).setMaximumAttempts(2).build())
              .build());
      return activities.greet(name);
    }
  }
}
