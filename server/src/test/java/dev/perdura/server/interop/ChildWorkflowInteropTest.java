package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Child workflows with the official Temporal Java SDK as client and worker on a Perdura server. */
class ChildWorkflowInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  @WorkflowInterface
  public interface Child {
    @WorkflowMethod
    String run(String mode);
  }

  public static class ChildImpl implements Child {
    @Override
    public String run(String mode) {
      switch (mode) {
        case "fail" -> throw ApplicationFailure.newNonRetryableFailure("child gave up", "ChildProblem");
        case "sleep" -> {
          Workflow.sleep(Duration.ofMinutes(10));
          return "woke up";
        }
        case "continue" -> {
          Workflow.continueAsNew("done after continuing");
          return "unreachable";
        }
        default -> {
          return "child says " + mode + " (parent " + Workflow.getInfo().getParentWorkflowId().orElse("none") + ")";
        }
      }
    }
  }

  @WorkflowInterface
  public interface Parent {
    @WorkflowMethod
    String run(String mode, String childId, String policy);
  }

  public static class ParentImpl implements Parent {
    @Override
    public String run(String mode, String childId, String policy) {
      Child child = Workflow.newChildWorkflowStub(Child.class, ChildWorkflowOptions.newBuilder()
          .setWorkflowId(childId)
          .setParentClosePolicy(ParentClosePolicy.valueOf(policy))
          .build());
      if (mode.equals("hold")) {
        Async.function(child::run, "sleep");
        Workflow.getWorkflowExecution(child).get();
        Workflow.await(() -> false);
      }
      if (mode.equals("sleep")) {
        // Start it, wait until it runs, and close without waiting for it.
        Promise<String> result = Async.function(child::run, mode);
        Workflow.getWorkflowExecution(child).get();
        return "left the child sleeping";
      }
      try {
        return "parent got: " + child.run(mode);
      } catch (ChildWorkflowFailure e) {
        return "child failed: " + e.getCause().getMessage();
      }
    }
  }

  /** Starts a sleeping child in a scope, cancels the scope, and reports how the child ended. */
  public static class CancellingParentImpl implements Parent {
    @Override
    public String run(String mode, String childId, String policy) {
      Child child = Workflow.newChildWorkflowStub(Child.class,
          ChildWorkflowOptions.newBuilder().setWorkflowId(childId).build());
      java.util.List<Promise<String>> result = new java.util.ArrayList<>();
      io.temporal.workflow.CancellationScope scope =
          Workflow.newCancellationScope(() -> result.add(Async.function(child::run, "sleep")));
      scope.run();
      Workflow.getWorkflowExecution(child).get();
      scope.cancel();
      try {
        return "child returned " + result.get(0).get();
      } catch (ChildWorkflowFailure e) {
        return "child ended with " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  @WorkflowInterface
  public interface Receiver {
    @WorkflowMethod
    String run();

    @io.temporal.workflow.SignalMethod
    void tell(String message);
  }

  public static class ReceiverImpl implements Receiver {
    private String message;

    @Override
    public String run() {
      Workflow.await(() -> message != null);
      return "received " + message;
    }

    @Override
    public void tell(String message) {
      this.message = message;
    }
  }

  @WorkflowInterface
  public interface Sender {
    @WorkflowMethod
    String run(String receiverId);
  }

  public static class SenderImpl implements Sender {
    @Override
    public String run(String receiverId) {
      try {
        Workflow.newExternalWorkflowStub(Receiver.class, receiverId).tell("hello from " + Workflow.getInfo().getWorkflowId());
        return "signalled";
      } catch (ApplicationFailure e) {
        // How this SDK reports SignalExternalWorkflowExecutionFailed.
        return "no receiver: " + e.getType();
      }
    }
  }

  private String startWorker() {
    String queue = PerduraServerExtension.uniqueQueue("child");
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(ParentImpl.class, ChildImpl.class, ReceiverImpl.class, SenderImpl.class);
    factory.start();
    return queue;
  }

  private String runParent(String queue, String parentId, String mode, String childId, String policy) {
    Parent parent = perdura.client().newWorkflowStub(Parent.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(parentId).setWorkflowExecutionTimeout(Duration.ofMinutes(2)).build());
    return parent.run(mode, childId, policy);
  }

  private List<EventType> history(String workflowId) {
    return perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(HistoryEvent::getEventType).toList();
  }

  private WorkflowExecutionStatus status(String workflowId) {
    return perdura.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
            .setNamespace("default").setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build())
        .getWorkflowExecutionInfo().getStatus();
  }

  @Test
  void aParentRunsAChildAndGetsItsResult() {
    String queue = startWorker();
    String parentId = "parent-" + UUID.randomUUID();
    String childId = "child-" + UUID.randomUUID();

    assertThat(runParent(queue, parentId, "hello", childId, "PARENT_CLOSE_POLICY_TERMINATE"))
        .isEqualTo("parent got: child says hello (parent " + parentId + ")");

    assertThat(history(parentId)).containsSubsequence(
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    var childStarted = perdura.client().fetchHistory(childId).getHistory().getEvents(0)
        .getWorkflowExecutionStartedEventAttributes();
    assertThat(childStarted.getParentWorkflowExecution().getWorkflowId()).isEqualTo(parentId);
    assertThat(childStarted.getParentInitiatedEventId()).isPositive();
  }

  @Test
  void aChildsFailureReachesTheParentWithItsCause() {
    String queue = startWorker();
    String parentId = "parent-" + UUID.randomUUID();

    assertThat(runParent(queue, parentId, "fail", "child-" + UUID.randomUUID(), "PARENT_CLOSE_POLICY_TERMINATE"))
        .startsWith("child failed: message='child gave up', type='ChildProblem'");
    assertThat(history(parentId)).contains(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED);
  }

  @Test
  void aChildThatContinuesAsNewReportsTheEndOfItsChain() {
    String queue = startWorker();
    String parentId = "parent-" + UUID.randomUUID();

    assertThat(runParent(queue, parentId, "continue", "child-" + UUID.randomUUID(), "PARENT_CLOSE_POLICY_TERMINATE"))
        .isEqualTo("parent got: child says done after continuing (parent " + parentId + ")");
  }

  @Test
  void aChildWhoseIdIsTakenFailsToStart() {
    String queue = startWorker();
    String childId = "child-" + UUID.randomUUID();
    // A workflow with the child's id is already running.
    Child squatter = perdura.client().newWorkflowStub(Child.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(childId).build());
    io.temporal.client.WorkflowClient.start(squatter::run, "sleep");
    String parentId = "parent-" + UUID.randomUUID();

    String result = runParent(queue, parentId, "hello", childId, "PARENT_CLOSE_POLICY_TERMINATE");

    assertThat(result).startsWith("child failed:");
    assertThat(history(parentId)).contains(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
        .doesNotContain(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED);
    assertThat(status(childId)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }

  @Test
  void closingTheParentTerminatesAChildUnderTheTerminatePolicy() {
    String queue = startWorker();
    String childId = "child-" + UUID.randomUUID();

    assertThat(runParent(queue, "parent-" + UUID.randomUUID(), "sleep", childId, "PARENT_CLOSE_POLICY_TERMINATE"))
        .isEqualTo("left the child sleeping");

    await().atMost(Duration.ofSeconds(20))
        .until(() -> status(childId) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  }

  @Test
  void closingTheParentCancelsAChildUnderTheRequestCancelPolicy() {
    String queue = startWorker();
    String childId = "child-" + UUID.randomUUID();

    runParent(queue, "parent-" + UUID.randomUUID(), "sleep", childId, "PARENT_CLOSE_POLICY_REQUEST_CANCEL");

    await().atMost(Duration.ofSeconds(20))
        .until(() -> status(childId) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED);
  }

  @Test
  void anAbandonedChildOutlivesItsParent() throws InterruptedException {
    String queue = startWorker();
    String childId = "child-" + UUID.randomUUID();
    String parentId = "parent-" + UUID.randomUUID();

    runParent(queue, parentId, "sleep", childId, "PARENT_CLOSE_POLICY_ABANDON");

    await().atMost(Duration.ofSeconds(20))
        .until(() -> status(parentId) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    // Give a wrongly applied policy time to act, then check the child still runs.
    Thread.sleep(1500);
    assertThat(status(childId)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }

  @Test
  void aParentCancelsItsRunningChildThroughACancellationScope() {
    String queue = PerduraServerExtension.uniqueQueue("cancel-child");
    WorkerFactory factory = perdura.newWorkerFactory();
    factory.newWorker(queue).registerWorkflowImplementationTypes(CancellingParentImpl.class, ChildImpl.class);
    factory.start();
    String parentId = "parent-" + UUID.randomUUID();
    String childId = "child-" + UUID.randomUUID();

    assertThat(runParent(queue, parentId, "cancel", childId, "PARENT_CLOSE_POLICY_TERMINATE"))
        .isEqualTo("child ended with CanceledFailure");
    assertThat(status(childId)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED);
    assertThat(history(parentId)).containsSubsequence(
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED);
  }

  @Test
  void aWorkflowSignalsAnotherOneAndLearnsWhenThereIsNone() {
    String queue = startWorker();
    String receiverId = "receiver-" + UUID.randomUUID();
    Receiver receiver = perdura.client().newWorkflowStub(Receiver.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(receiverId).build());
    io.temporal.client.WorkflowClient.start(receiver::run);
    String senderId = "sender-" + UUID.randomUUID();
    Sender sender = perdura.client().newWorkflowStub(Sender.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(senderId).build());

    assertThat(sender.run(receiverId)).isEqualTo("signalled");
    assertThat(io.temporal.client.WorkflowStub.fromTyped(receiver).getResult(String.class))
        .isEqualTo("received hello from " + senderId);
    assertThat(history(senderId)).containsSubsequence(
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED);

    Sender lonely = perdura.client().newWorkflowStub(Sender.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId("sender-" + UUID.randomUUID()).build());
    assertThat(lonely.run("nobody-" + UUID.randomUUID()))
        .isEqualTo("no receiver: SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND");
  }

  @Test
  void describeShowsTheParentsPendingChildAndTheChildsParent() {
    String queue = startWorker();
    String parentId = "parent-" + UUID.randomUUID();
    String childId = "child-" + UUID.randomUUID();
    Parent parent = perdura.client().newWorkflowStub(Parent.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(parentId).build());
    io.temporal.client.WorkflowClient.start(parent::run, "hold", childId, "PARENT_CLOSE_POLICY_TERMINATE");

    await().atMost(Duration.ofSeconds(20)).until(() -> history(parentId)
        .contains(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED));
    var described = perdura.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest
        .newBuilder().setNamespace("default").setExecution(WorkflowExecution.newBuilder().setWorkflowId(parentId))
        .build());
    assertThat(described.getPendingChildrenList()).singleElement().satisfies(child -> {
      assertThat(child.getWorkflowId()).isEqualTo(childId);
      assertThat(child.getWorkflowTypeName()).isEqualTo("Child");
      assertThat(child.getRunId()).isNotEmpty();
      assertThat(child.getParentClosePolicy()).isEqualTo(ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE);
    });
    var child = perdura.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest
        .newBuilder().setNamespace("default").setExecution(WorkflowExecution.newBuilder().setWorkflowId(childId))
        .build());
    assertThat(child.getWorkflowExecutionInfo().getParentExecution().getWorkflowId()).isEqualTo(parentId);

    io.temporal.client.WorkflowStub.fromTyped(parent).terminate("done looking");
    await().atMost(Duration.ofSeconds(20))
        .until(() -> status(childId) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  }
}
