package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.failure.ApplicationFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A handle's result follows a workflow's retries to the attempt that decides its outcome. */
class WorkflowRetryTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  /** Runs of each workflow id so far (each run is one workflow task here). */
  static final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  public static class FailsTwice {
    @WorkflowMethod
    public String run(String input) {
      int run = runs.computeIfAbsent(Workflow.info().workflowId(), id -> new AtomicInteger()).incrementAndGet();
      if (run < 3) {
        throw ApplicationFailure.retryable("run " + run + " failed", "Flaky");
      }
      return input + " after " + run + " runs";
    }
  }

  public static class Parent {
    @WorkflowMethod
    public String run(String input) {
      return "parent got " + Workflow.executeChildWorkflow("FailsTwice", String.class,
          ChildWorkflowOptions.DEFAULTS.withWorkflowId(Workflow.info().workflowId() + "-child")
              .withRetryPolicy(new dev.perdura.common.RetryPolicy(Duration.ofMillis(100), 0, null, 0, java.util.List.of())),
          input);
    }
  }

  @Test
  void aRunStartedWithARetryPolicyIsRetriedAndTheHandleGetsTheLastAttemptsResult() {
    String queue = PerduraTestServer.uniqueQueue("workflow-retry-sdk");
    Worker worker = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(FailsTwice.class, Parent.class).start();

    String workflowId = "retry-sdk-" + UUID.randomUUID();
    var handle = perdura.client().startWorkflow("FailsTwice", dev.perdura.client.StartWorkflowOptions.of(workflowId, queue)
        .withRetryPolicy(new dev.perdura.common.RetryPolicy(Duration.ofMillis(100), 0, null, 5, java.util.List.of())),
        "box");
    assertThat(handle.result(String.class)).isEqualTo("box after 3 runs");

    String parentId = "retry-parent-" + UUID.randomUUID();
    assertThat(perdura.client().executeWorkflow("Parent", String.class,
        dev.perdura.client.StartWorkflowOptions.of(parentId, queue), "crate"))
        .isEqualTo("parent got crate after 3 runs");
  }

  @Test
  void theResultOfTheFirstRunsHandleIsTheLastAttempts() {
    String queue = PerduraTestServer.uniqueQueue("workflow-retry");
    Worker worker = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(FailsTwice.class).start();

    String workflowId = "retry-" + UUID.randomUUID();
    WorkflowStub started = perdura.temporalClient().newUntypedWorkflowStub("FailsTwice", WorkflowOptions.newBuilder()
        .setTaskQueue(queue).setWorkflowId(workflowId)
        .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).build())
        .build());
    String firstRunId = started.start("parcel").getRunId();

    assertThat(perdura.client().workflowHandle(workflowId, firstRunId).result(String.class))
        .isEqualTo("parcel after 3 runs");
  }
}
