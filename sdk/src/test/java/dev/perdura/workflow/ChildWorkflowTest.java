package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowDescription.WorkflowStatus;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.failure.ChildWorkflowFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Child workflows in Perdura's SDK on a Perdura server: result, failure with its cause, a start that
 * fails because the id is taken, the parent close policy; with the runs cached and with every task
 * replayed from the first event (cache size 0).
 */
class ChildWorkflowTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Greeter {
    @WorkflowMethod
    public String run(String mode) {
      return switch (mode) {
        case "fail" -> throw ApplicationFailure.nonRetryable("no greeting today", "GreeterClosed");
        case "sleep" -> {
          Workflow.sleep(Duration.ofMinutes(10));
          yield "woke up";
        }
        default -> "Hello, " + mode + "!";
      };
    }
  }

  public static class Listener {
    private String heard;

    @WorkflowMethod
    public String run() {
      Workflow.await(() -> heard != null);
      return "heard " + heard;
    }

    @SignalMethod(name = "tell")
    public void tell(String message) {
      heard = message;
    }
  }

  public static class Family {
    @WorkflowMethod
    public String run(String mode, String childId) {
      ChildWorkflowOptions options = ChildWorkflowOptions.DEFAULTS.withWorkflowId(childId);
      switch (mode) {
        case "two" -> {
          ChildWorkflowHandle<String> first = Workflow.startChildWorkflow("Greeter", String.class,
              options.withWorkflowId(childId + "-a"), "Ada");
          ChildWorkflowHandle<String> second = Workflow.startChildWorkflow("Greeter", String.class,
              options.withWorkflowId(childId + "-b"), "Grace");
          String started = first.awaitStarted().isEmpty() ? "no run id" : "started";
          return started + ": " + first.result() + " " + second.result();
        }
        case "cancel" -> {
          java.util.List<ChildWorkflowHandle<String>> started = new java.util.ArrayList<>();
          CancellationScope scope = Workflow.newCancellationScope(() ->
              started.add(Workflow.startChildWorkflow("Greeter", String.class, options, "sleep")));
          scope.run();
          started.get(0).awaitStarted();
          scope.cancel();
          try {
            return "child returned " + started.get(0).result();
          } catch (ChildWorkflowFailure e) {
            return "child ended with " + e.getCause().getClass().getSimpleName();
          }
        }
        case "signal" -> {
          Workflow.signalExternalWorkflow(childId, "tell", "hi from " + Workflow.info().workflowId());
          try {
            Workflow.signalExternalWorkflow(childId + "-nobody", "tell", "anyone?");
            return "signalled nobody?";
          } catch (ApplicationFailure e) {
            return "signalled; the other one: " + e.type();
          }
        }
        case "leave" -> {
          ChildWorkflowHandle<String> sleeper = Workflow.startChildWorkflow("Greeter", String.class,
              options.withParentClosePolicy(ParentClosePolicy.ABANDON), "sleep");
          sleeper.awaitStarted();
          return "left " + sleeper.workflowId();
        }
        default -> {
          try {
            return Workflow.executeChildWorkflow("Greeter", String.class, options, mode);
          } catch (ChildWorkflowFailure e) {
            return "child failed: " + ((ApplicationFailure) e.getCause()).type() + ": " + e.getCause().getMessage();
          }
        }
      }
    }
  }

  private String worker(int cacheSize) {
    String queue = PerduraTestServer.uniqueQueue("family");
    Worker worker = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(cacheSize));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(Family.class, Greeter.class, Listener.class).start();
    return queue;
  }

  private String run(String queue, String mode, String childId) {
    return perdura.client().executeWorkflow("Family", String.class,
        StartWorkflowOptions.of("family-" + UUID.randomUUID(), queue).withExecutionTimeout(Duration.ofMinutes(2)),
        mode, childId);
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void aParentRunsTwoChildrenAtOnceAndGetsBothResults(int cacheSize) {
    String queue = worker(cacheSize);
    assertThat(run(queue, "two", "greeter-" + UUID.randomUUID())).isEqualTo("started: Hello, Ada! Hello, Grace!");
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void aChildsFailureReachesTheParentWithItsCause(int cacheSize) {
    String queue = worker(cacheSize);
    assertThat(run(queue, "fail", "greeter-" + UUID.randomUUID()))
        .isEqualTo("child failed: GreeterClosed: no greeting today");
  }

  @Test
  void aChildWhoseIdIsInUseFailsToStart() {
    String queue = worker(600);
    String childId = "greeter-" + UUID.randomUUID();
    perdura.client().startWorkflow("Greeter", StartWorkflowOptions.of(childId, queue), "sleep");

    assertThat(run(queue, "Ada", childId))
        .isEqualTo("child failed: " + ChildWorkflowFailure.ALREADY_STARTED + ": workflow id " + childId + " is in use");
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void anAbandonedChildRunsOnAfterItsParent(int cacheSize) {
    String queue = worker(cacheSize);
    String childId = "greeter-" + UUID.randomUUID();

    assertThat(run(queue, "leave", childId)).isEqualTo("left " + childId);

    WorkflowHandle child = perdura.client().workflowHandle(childId);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10))
        .until(() -> child.describe().status() == WorkflowStatus.RUNNING);
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void cancellingTheScopeOfAStartedChildCancelsTheChild(int cacheSize) {
    String queue = worker(cacheSize);
    String childId = "greeter-" + UUID.randomUUID();

    assertThat(run(queue, "cancel", childId)).isEqualTo("child ended with CanceledFailure");
    assertThat(perdura.client().workflowHandle(childId).describe().status()).isEqualTo(WorkflowStatus.CANCELED);
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {600, 0})
  void aWorkflowSignalsAnotherAndLearnsWhenThereIsNone(int cacheSize) {
    String queue = worker(cacheSize);
    String listenerId = "listener-" + UUID.randomUUID();
    WorkflowHandle listener = perdura.client().startWorkflow("Listener", StartWorkflowOptions.of(listenerId, queue));

    assertThat(run(queue, "signal", listenerId))
        .isEqualTo("signalled; the other one: " + Workflow.EXTERNAL_WORKFLOW_NOT_FOUND);
    assertThat(listener.result(String.class)).startsWith("heard hi from family-");
  }
}
