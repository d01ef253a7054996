package dev.perdura.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.common.Priority;
import dev.perdura.failure.WorkflowFailedException;
import dev.perdura.failure.WorkflowFailedException.CloseStatus;
import dev.perdura.testsupport.PerduraTestServer;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Perdura client driving workflows that run on an official Temporal SDK worker. */
class PerduraClientTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  @WorkflowInterface
  public interface Collector {
    @WorkflowMethod(name = "Collector")
    List<String> collect(String prefix);

    @SignalMethod
    void add(String item);

    @SignalMethod
    void finish();
  }

  public static class CollectorImpl implements Collector {
    private final List<String> items = new ArrayList<>();
    private boolean done;

    @Override
    public List<String> collect(String prefix) {
      Workflow.await(() -> done);
      if (items.contains("fail")) {
        throw io.temporal.failure.ApplicationFailure.newNonRetryableFailure("asked to fail", "Asked");
      }
      return items.stream().map(i -> prefix + i).toList();
    }

    @Override
    public void add(String item) {
      items.add(item);
    }

    @Override
    public void finish() {
      done = true;
    }
  }

  private String queue() {
    String queue = PerduraTestServer.uniqueQueue("collector");
    var factory = perdura.temporalWorkerFactory();
    factory.newWorker(queue).registerWorkflowImplementationTypes(CollectorImpl.class);
    factory.start();
    return queue;
  }

  @Test
  void startSignalDescribeAndResult() throws TimeoutException {
    String queue = queue();
    String id = "collect-" + UUID.randomUUID();
    WorkflowHandle handle = perdura.client().startWorkflow("Collector",
        StartWorkflowOptions.of(id, queue).withPriority(Priority.ofKey(2)), "item:");
    assertThat(handle.runId()).isNotEmpty();
    assertThatThrownBy(() -> handle.result(List.class, Duration.ofMillis(300))).isInstanceOf(TimeoutException.class);

    handle.signal("add", "a");
    handle.signal("add", "b");
    handle.signal("finish");
    assertThat(handle.result(List.class)).isEqualTo(List.of("item:a", "item:b"));

    WorkflowDescription description = perdura.client().workflowHandle(id).describe();
    assertThat(description.status()).isEqualTo(WorkflowDescription.WorkflowStatus.COMPLETED);
    assertThat(description.workflowType()).isEqualTo("Collector");
    assertThat(description.taskQueue()).isEqualTo(queue);
    assertThat(description.runId()).isEqualTo(handle.runId());
    assertThat(description.closeTime()).isPresent();
  }

  @Test
  void aSecondStartWithTheSameIdConflicts() {
    String queue = queue();
    String id = "twice-" + UUID.randomUUID();
    WorkflowHandle first = perdura.client().startWorkflow("Collector", StartWorkflowOptions.of(id, queue), "x");
    assertThatThrownBy(() -> perdura.client().startWorkflow("Collector", StartWorkflowOptions.of(id, queue), "x"))
        .isInstanceOf(WorkflowAlreadyStartedException.class);
    first.terminate("test over");
  }

  @Test
  void failuresCancellationAndTerminationEndTheResultWait() {
    String queue = queue();
    WorkflowHandle failing = perdura.client().startWorkflow("Collector",
        StartWorkflowOptions.of("fail-" + UUID.randomUUID(), queue), "");
    failing.signal("add", "fail");
    failing.signal("finish");
    assertThatThrownBy(() -> failing.result(List.class))
        .isInstanceOfSatisfying(WorkflowFailedException.class,
            e -> assertThat(e.closeStatus()).isEqualTo(CloseStatus.FAILED))
        .hasMessageContaining("asked to fail");

    WorkflowHandle cancelled = perdura.client().startWorkflow("Collector",
        StartWorkflowOptions.of("cancel-" + UUID.randomUUID(), queue), "");
    cancelled.cancel();
    assertThatThrownBy(() -> cancelled.result(List.class))
        .isInstanceOfSatisfying(WorkflowFailedException.class,
            e -> assertThat(e.closeStatus()).isEqualTo(CloseStatus.CANCELED));

    WorkflowHandle terminated = perdura.client().startWorkflow("Collector",
        StartWorkflowOptions.of("terminate-" + UUID.randomUUID(), queue), "");
    terminated.terminate("operator says so");
    assertThatThrownBy(() -> terminated.result(List.class))
        .isInstanceOfSatisfying(WorkflowFailedException.class,
            e -> assertThat(e.closeStatus()).isEqualTo(CloseStatus.TERMINATED))
        .hasMessageContaining("operator says so");
  }

  @Test
  void badOptionsAndUnknownWorkflowsAreClearErrors() {
    assertThatThrownBy(() -> StartWorkflowOptions.of("", "q")).hasMessageContaining("workflowId");
    assertThatThrownBy(() -> StartWorkflowOptions.of("id", "q").withRunTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("runTimeout");
    assertThatThrownBy(() -> new Priority(9, "", 0)).hasMessageContaining("priorityKey");
    assertThatThrownBy(() -> perdura.client().workflowHandle("no-such-" + UUID.randomUUID()).describe())
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.status()).isEqualTo("NOT_FOUND"));
  }
}
