package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Workflow retry policies, driven by the official Temporal Java SDK: a failed or timed-out run with
 * attempts left is followed by a new run of the same workflow id (attempt + 1, same input, after
 * the backoff), its closing event naming the new run; the client's result follows the chain.
 */
class WorkflowRetryInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  @WorkflowInterface
  public interface Flaky {
    /** Fails with {@code errorType} until attempt {@code succeedAt}, then returns the attempt. */
    @WorkflowMethod
    String run(String input, int succeedAt, String errorType);
  }

  public static class FlakyImpl implements Flaky {
    @Override
    public String run(String input, int succeedAt, String errorType) {
      int attempt = Workflow.getInfo().getAttempt();
      if (attempt < succeedAt) {
        throw ApplicationFailure.newFailure("attempt " + attempt + " failed", errorType);
      }
      return input + " at attempt " + attempt;
    }
  }

  @WorkflowInterface
  public interface Slow {
    @WorkflowMethod
    String run();
  }

  public static class SlowImpl implements Slow {
    @Override
    public String run() {
      Workflow.sleep(Duration.ofMinutes(5));
      return "never";
    }
  }

  @WorkflowInterface
  public interface Parent {
    @WorkflowMethod
    String run(String input);
  }

  public static class ParentImpl implements Parent {
    @Override
    public String run(String input) {
      Flaky child = Workflow.newChildWorkflowStub(Flaky.class, ChildWorkflowOptions.newBuilder()
          .setWorkflowId(Workflow.getInfo().getWorkflowId() + "-child")
          .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).build())
          .build());
      return "parent got " + child.run(input, 2, "Flaky");
    }
  }

  private String startWorker() {
    String queue = PerduraServerExtension.uniqueQueue("retry");
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(FlakyImpl.class, SlowImpl.class, ParentImpl.class);
    factory.start();
    return queue;
  }

  private static WorkflowOptions options(String queue, String workflowId, RetryOptions retry) {
    return WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(workflowId).setRetryOptions(retry).build();
  }

  private static HistoryEvent closeEvent(String workflowId, String runId) {
    List<HistoryEvent> events = perdura.client().fetchHistory(workflowId, runId).getHistory().getEventsList();
    return events.get(events.size() - 1);
  }

  private static HistoryEvent startedEvent(String workflowId, String runId) {
    return perdura.client().fetchHistory(workflowId, runId).getHistory().getEvents(0);
  }

  @Test
  void aFailedRunWithAttemptsLeftIsRetriedAsANewRunWithTheSameInput() {
    String queue = startWorker();
    String workflowId = "retried-" + UUID.randomUUID();
    Flaky workflow = perdura.client().newWorkflowStub(Flaky.class, options(queue, workflowId,
        RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).setMaximumAttempts(5).build()));

    assertThat(workflow.run("order-7", 3, "Flaky")).isEqualTo("order-7 at attempt 3");

    // Walk the chain from the first run.
    String firstRunId = startedEvent(workflowId, "").getWorkflowExecutionStartedEventAttributes()
        .getFirstExecutionRunId();
    String runId = firstRunId;
    for (int attempt = 1; attempt <= 2; attempt++) {
      HistoryEvent started = startedEvent(workflowId, runId);
      assertThat(started.getWorkflowExecutionStartedEventAttributes().getAttempt()).isEqualTo(attempt);
      HistoryEvent failed = closeEvent(workflowId, runId);
      assertThat(failed.getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
      var attributes = failed.getWorkflowExecutionFailedEventAttributes();
      assertThat(attributes.getRetryState()).isEqualTo(RetryState.RETRY_STATE_IN_PROGRESS);
      assertThat(attributes.getNewExecutionRunId()).isNotEmpty();
      runId = attributes.getNewExecutionRunId();
    }
    var third = startedEvent(workflowId, runId).getWorkflowExecutionStartedEventAttributes();
    assertThat(third.getAttempt()).isEqualTo(3);
    assertThat(third.getFirstExecutionRunId()).isEqualTo(firstRunId);
    assertThat(third.getContinuedFailure().getMessage()).isEqualTo("attempt 2 failed");
    assertThat(third.getFirstWorkflowTaskBackoff().getNanos() + third.getFirstWorkflowTaskBackoff().getSeconds())
        .as("the retry waits for the backoff").isPositive();
    assertThat(closeEvent(workflowId, runId).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void aNonRetryableErrorTypeEndsTheWorkflowAtOnce() {
    String queue = startWorker();
    String workflowId = "non-retryable-" + UUID.randomUUID();
    Flaky workflow = perdura.client().newWorkflowStub(Flaky.class, options(queue, workflowId,
        RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).setMaximumAttempts(5)
            .setDoNotRetry("Fatal").build()));

    assertThatThrownBy(() -> workflow.run("x", 3, "Fatal")).isInstanceOf(WorkflowFailedException.class);
    HistoryEvent failed = closeEvent(workflowId, "");
    assertThat(failed.getWorkflowExecutionFailedEventAttributes().getRetryState())
        .isEqualTo(RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
    assertThat(startedEvent(workflowId, "").getWorkflowExecutionStartedEventAttributes().getAttempt()).isEqualTo(1);
  }

  @Test
  void theLastAllowedAttemptFailsTheWorkflowWithMaximumAttemptsReached() {
    String queue = startWorker();
    String workflowId = "max-attempts-" + UUID.randomUUID();
    Flaky workflow = perdura.client().newWorkflowStub(Flaky.class, options(queue, workflowId,
        RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).setMaximumAttempts(2).build()));

    assertThatThrownBy(() -> workflow.run("x", 10, "Flaky")).isInstanceOf(WorkflowFailedException.class)
        .cause().isInstanceOfSatisfying(ApplicationFailure.class,
            failure -> assertThat(failure.getOriginalMessage()).isEqualTo("attempt 2 failed"));
    HistoryEvent failed = closeEvent(workflowId, "");
    assertThat(failed.getWorkflowExecutionFailedEventAttributes().getRetryState())
        .isEqualTo(RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    assertThat(startedEvent(workflowId, "").getWorkflowExecutionStartedEventAttributes().getAttempt()).isEqualTo(2);
  }

  @Test
  void aRunTimeoutIsRetriedToo() {
    String queue = startWorker();
    String workflowId = "run-timeout-" + UUID.randomUUID();
    Slow workflow = perdura.client().newWorkflowStub(Slow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(workflowId).setWorkflowRunTimeout(Duration.ofSeconds(1))
        .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).setMaximumAttempts(2)
            .build())
        .build());

    assertThatThrownBy(workflow::run).isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(TimeoutFailure.class);
    HistoryEvent timedOut = closeEvent(workflowId, "");
    assertThat(timedOut.getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
    assertThat(timedOut.getWorkflowExecutionTimedOutEventAttributes().getRetryState())
        .isEqualTo(RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    var started = startedEvent(workflowId, "").getWorkflowExecutionStartedEventAttributes();
    assertThat(started.getAttempt()).isEqualTo(2);
    HistoryEvent firstClose = closeEvent(workflowId, started.getFirstExecutionRunId());
    assertThat(firstClose.getWorkflowExecutionTimedOutEventAttributes().getRetryState())
        .isEqualTo(RetryState.RETRY_STATE_IN_PROGRESS);
    String secondRunId = firstClose.getWorkflowExecutionTimedOutEventAttributes().getNewExecutionRunId();
    assertThat(startedEvent(workflowId, secondRunId).getWorkflowExecutionStartedEventAttributes().getAttempt())
        .isEqualTo(2);
  }

  @Test
  void aRetriedChildReportsOnlyItsLastRunToTheParent() {
    String queue = startWorker();
    String workflowId = "parent-" + UUID.randomUUID();
    Parent parent = perdura.client().newWorkflowStub(Parent.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(workflowId).build());

    assertThat(parent.run("gift")).isEqualTo("parent got gift at attempt 2");
    List<EventType> events = perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(HistoryEvent::getEventType).toList();
    assertThat(events).contains(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)
        .doesNotContain(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED);
  }
}
