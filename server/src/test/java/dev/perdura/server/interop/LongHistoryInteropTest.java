package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A workflow task whose history is longer than one page (1000 events): the worker gets the first page
 * with the task and reads the rest with GetWorkflowExecutionHistory, up to the task's own events.
 */
class LongHistoryInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();
  static final int SIGNALS = 1500;

  @WorkflowInterface
  public interface Counter {
    @WorkflowMethod
    int run();

    @SignalMethod
    void add(int value);
  }

  public static class CounterImpl implements Counter {
    private int count;
    private int sum;

    @Override
    public int run() {
      Workflow.await(() -> count == SIGNALS);
      return sum;
    }

    @Override
    public void add(int value) {
      count++;
      sum += value;
    }
  }

  @Test
  void aWorkerReadsAFirstTaskOfMoreThanOnePageAndFinishesTheWorkflow() {
    String queue = PerduraServerExtension.uniqueQueue("long");
    String workflowId = "long-" + UUID.randomUUID();
    Counter counter = perdura.client().newWorkflowStub(Counter.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(workflowId).build());
    WorkflowClient.start(counter::run);
    WorkflowStub stub = WorkflowStub.fromTyped(counter);
    // No worker yet: every signal lands in the history before the first task is taken.
    for (int i = 1; i <= SIGNALS; i++) {
      stub.signal("add", i);
    }

    WorkerFactory factory = perdura.newWorkerFactory();
    factory.newWorker(queue).registerWorkflowImplementationTypes(CounterImpl.class);
    factory.start();

    assertThat(stub.getResult(Integer.class)).isEqualTo(SIGNALS * (SIGNALS + 1) / 2);

    // Paging through GetWorkflowExecutionHistory with a small page size reads every event once.
    long seen = 0;
    long expectedNext = 1;
    com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
    do {
      GetWorkflowExecutionHistoryResponse page = perdura.service().blockingStub().getWorkflowExecutionHistory(
          GetWorkflowExecutionHistoryRequest.newBuilder().setNamespace("default")
              .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
              .setMaximumPageSize(400).setNextPageToken(token).build());
      for (var event : page.getHistory().getEventsList()) {
        assertThat(event.getEventId()).isEqualTo(expectedNext++);
        seen++;
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(seen).isGreaterThan(SIGNALS);
  }
}
