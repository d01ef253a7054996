package dev.perdura.server.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import dev.perdura.server.store.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills the server (SIGKILL) while 100 workflows are between activities and timers (and, in a second
 * test, while 60 parents are between starting their children and hearing of their end), restarts it
 * on the same SQLite file or PostgreSQL database, and checks that every workflow finishes once with the right result:
 * nothing the server acknowledged is lost, nothing is applied twice.
 */
class CrashRecoveryTest {
  private static final int WORKFLOWS = 100;

  /** Activity executions by workflow id and step; a retried execution after the crash is allowed. */
  static final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
  static final AtomicInteger firstSteps = new AtomicInteger();
  static final AtomicInteger secondSteps = new AtomicInteger();

  @ActivityInterface
  public interface Steps {
    String step(String workflowId, String name);
  }

  public static class StepsImpl implements Steps {
    @Override
    public String step(String workflowId, String name) {
      executions.computeIfAbsent(workflowId + "/" + name, k -> new AtomicInteger()).incrementAndGet();
      switch (name) {
        case "a" -> firstSteps.incrementAndGet();
        case "b" -> secondSteps.incrementAndGet();
        default -> {}
      }
      return name + ":" + workflowId;
    }
  }

  @WorkflowInterface
  public interface TwoSteps {
    @WorkflowMethod
    String run(int seconds);
  }

  public static class TwoStepsImpl implements TwoSteps {
    @Override
    public String run(int seconds) {
      Steps steps = Workflow.newActivityStub(Steps.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(10))
          .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(200)).build())
          .build());
      String workflowId = Workflow.getInfo().getWorkflowId();
      String first = steps.step(workflowId, "a");
      Workflow.sleep(Duration.ofSeconds(seconds));
      return first + "+" + steps.step(workflowId, "b");
    }
  }

  static final AtomicInteger childSteps = new AtomicInteger();

  /** A client of the server process and a worker factory on it, closed together. */
  private record Connection(WorkflowServiceStubs service, WorkflowClient client, WorkerFactory factory)
      implements AutoCloseable {
    Connection(String target) {
      this(WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(target).build()));
    }

    private Connection(WorkflowServiceStubs service) {
      this(service, WorkflowClient.newInstance(service,
          WorkflowClientOptions.newBuilder().setNamespace("default").build()));
    }

    private Connection(WorkflowServiceStubs service, WorkflowClient client) {
      this(service, client, WorkerFactory.newInstance(client));
    }

    @Override
    public void close() {
      factory.shutdownNow();
      factory.awaitTermination(10, TimeUnit.SECONDS);
      service.shutdownNow();
    }
  }

  @WorkflowInterface
  public interface Child {
    @WorkflowMethod
    String run(String parentId);
  }

  public static class ChildImpl implements Child {
    @Override
    public String run(String parentId) {
      Steps steps = Workflow.newActivityStub(Steps.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(10))
          .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(200)).build())
          .build());
      String step = steps.step(Workflow.getInfo().getWorkflowId(), "child");
      childSteps.incrementAndGet();
      Workflow.sleep(Duration.ofSeconds(1));
      return step;
    }
  }

  @WorkflowInterface
  public interface Parent {
    @WorkflowMethod
    String run();
  }

  public static class ParentImpl implements Parent {
    @Override
    public String run() {
      String id = Workflow.getInfo().getWorkflowId();
      Child child = Workflow.newChildWorkflowStub(Child.class,
          io.temporal.workflow.ChildWorkflowOptions.newBuilder().setWorkflowId(id + "-child").build());
      return "parent got " + child.run(id);
    }
  }

  /**
   * The steps between a parent and its child go through durable timers; killing the server among
   * them must neither lose a child nor start one twice.
   */
  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void childWorkflowsInFlightWhenTheServerIsKilledFinishOnceAfterARestart(@TempDir Path dir) throws Exception {
    int parents = 60;
    String queue = "crash-children-" + UUID.randomUUID();
    try (ServerProcess server = new ServerProcess(dir)) {
      server.start();
      try (Connection connection = new Connection(server.target())) {
        WorkflowServiceStubs service = connection.service();
        WorkflowClient client = connection.client();
        WorkerFactory factory = connection.factory();
        var worker = factory.newWorker(queue);
        worker.registerWorkflowImplementationTypes(ParentImpl.class, ChildImpl.class);
        worker.registerActivitiesImplementations(new StepsImpl());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < parents; i++) {
          String id = "crash-parent-" + i + "-" + UUID.randomUUID();
          ids.add(id);
          WorkflowClient.start(client.newWorkflowStub(Parent.class, WorkflowOptions.newBuilder()
              .setTaskQueue(queue).setWorkflowId(id).build())::run);
        }
        factory.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
            .until(() -> childSteps.get() >= parents / 2);
        server.kill();
        System.out.printf("killed the server after %d children ran their step%n", childSteps.get());

        server.start();
        for (String id : ids) {
          String result = client.newUntypedWorkflowStub(id).getResult(90, TimeUnit.SECONDS, String.class);
          assertThat(result).isEqualTo("parent got child:" + id + "-child");
        }
        for (String id : ids) {
          List<EventType> events = client.fetchHistory(id).getHistory().getEventsList().stream()
              .map(HistoryEvent::getEventType).toList();
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED))
              .as("child initiations of %s", id).hasSize(1);
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED))
              .as("child starts of %s", id).hasSize(1);
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED))
              .as("child completions of %s", id).hasSize(1);
        }
        long runs = service.blockingStub().countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
            .setNamespace("default").setQuery("TaskQueue = '" + queue + "'").build()).getCount();
        assertThat(runs).as("one run per parent and per child").isEqualTo(2L * parents);
      } catch (AssertionError | RuntimeException | java.util.concurrent.TimeoutException e) {
        throw new AssertionError(e.getMessage() + "\n--- server log ---\n" + server.logText(), e);
      }
    }
  }

  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"SQLite", "PostgreSQL"})
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void workflowsInFlightWhenTheServerIsKilledFinishOnceAfterARestart(String store, @TempDir Path dir) throws Exception {
    String queue = "crash-" + UUID.randomUUID();
    try (ServerProcess server = store.equals("SQLite") ? new ServerProcess(dir)
        : new ServerProcess(dir, TestPostgres.get().newDatabase("crash"))) {
      server.start();
      try (Connection connection = new Connection(server.target())) {
        WorkflowServiceStubs service = connection.service();
        WorkflowClient client = connection.client();
        WorkerFactory factory = connection.factory();
        var worker = factory.newWorker(queue);
        worker.registerWorkflowImplementationTypes(TwoStepsImpl.class);
        worker.registerActivitiesImplementations(new StepsImpl());

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < WORKFLOWS; i++) {
          String id = "crash-" + i + "-" + UUID.randomUUID();
          ids.add(id);
          WorkflowClient.start(client.newWorkflowStub(TwoSteps.class, WorkflowOptions.newBuilder()
              .setTaskQueue(queue).setWorkflowId(id).build())::run, 1 + i % 3);
        }

        // The worker starts after every start was acknowledged, and the server dies once half
        // of the first steps ran: workflows are then spread over every stage.
        // The counters are shared with the other store's run, hence the baselines.
        int firstBefore = firstSteps.get();
        int secondBefore = secondSteps.get();
        factory.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
            .until(() -> firstSteps.get() - firstBefore >= WORKFLOWS / 2);
        server.kill();
        int finishedBeforeKill = secondSteps.get() - secondBefore;
        System.out.printf("killed the %s server after %d first steps and %d second steps%n",
            store, firstSteps.get() - firstBefore, finishedBeforeKill);
        assertThat(finishedBeforeKill).as("workflows past their last step when the server died").isLessThan(WORKFLOWS);

        server.start();
        for (String id : ids) {
          String result = client.newUntypedWorkflowStub(id).getResult(90, TimeUnit.SECONDS, String.class);
          assertThat(result).isEqualTo("a:" + id + "+b:" + id);
        }

        for (String id : ids) {
          List<EventType> events = client.fetchHistory(id).getHistory().getEventsList().stream()
              .map(HistoryEvent::getEventType).toList();
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED))
              .as("activity completions of %s", id).hasSize(2);
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_TIMER_FIRED))
              .as("timer firings of %s", id).hasSize(1);
          assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED))
              .as("completions of %s", id).hasSize(1);
        }
        long runs = service.blockingStub().countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
            .setNamespace("default").setQuery("TaskQueue = '" + queue + "'").build()).getCount();
        assertThat(runs).as("one run per workflow id").isEqualTo(WORKFLOWS);
        long completed = service.blockingStub().countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
            .setNamespace("default").setQuery("TaskQueue = '" + queue + "' AND ExecutionStatus = 'Completed'")
            .build()).getCount();
        assertThat(completed).isEqualTo(WORKFLOWS);
        assertThat(ids).allSatisfy(id -> assertThat(executions.get(id + "/b")).isNotNull());
      } catch (AssertionError | RuntimeException | java.util.concurrent.TimeoutException e) {
        throw new AssertionError(e.getMessage() + "\n--- server log ---\n" + server.logText(), e);
      }
    }
  }
}
