package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cached runs continue from their partial sticky histories; evicted ones (a cache too small for the
 * workflows in flight) and an empty cache fall back to a full replay, with the same results.
 */
class WorkflowCacheTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Echo {
    @ActivityMethod
    public String echo(String text) {
      return text;
    }
  }

  /** Many small steps: activities, timers and signals, so runs go in and out of the cache. */
  public static class ManySteps {
    private final List<String> signals = new ArrayList<>();

    @WorkflowMethod
    public String run(String name, int steps) {
      StringBuilder trail = new StringBuilder(name);
      for (int i = 0; i < steps; i++) {
        trail.append(' ').append(Workflow.executeActivity("echo", String.class,
            ActivityOptions.startToClose(Duration.ofSeconds(30)), Integer.toString(i)));
        if (i % 3 == 0) {
          Workflow.sleep(Duration.ofMillis(50));
        }
      }
      Workflow.await(() -> !signals.isEmpty());
      return trail + " " + signals;
    }

    @SignalMethod
    public void poke(String value) {
      signals.add(value);
    }
  }

  @ParameterizedTest(name = "cache size {0}")
  @ValueSource(ints = {0, 1, 600})
  void workflowsGiveTheSameResultsWhateverTheCacheHolds(int cacheSize) {
    String queue = PerduraTestServer.uniqueQueue("cache");
    Worker worker = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(cacheSize));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(ManySteps.class).registerActivities(new Echo()).start();
    List<WorkflowHandle> handles = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      handles.add(perdura.client().startWorkflow("ManySteps",
          StartWorkflowOptions.of("cache-" + cacheSize + "-" + i + "-" + UUID.randomUUID(), queue), "wf" + i, 6));
    }
    handles.forEach(h -> h.signal("poke", "go"));
    for (int i = 0; i < 3; i++) {
      assertThat(handles.get(i).result(String.class)).isEqualTo("wf" + i + " 0 1 2 3 4 5 [go]");
    }
  }

  @Test
  void aWorkerThatLeavesHandsItsCachedRunsToAnother() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("handover");
    Worker first = Worker.create(perdura.client(), queue);
    first.registerWorkflows(ManySteps.class).registerActivities(new Echo()).start();
    WorkflowHandle handle = perdura.client().startWorkflow("ManySteps",
        StartWorkflowOptions.of("handover-" + UUID.randomUUID(), queue), "moving", 2);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
        .until(() -> handle.describe().historyLength() > 10);
    first.shutdown();
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();

    Worker second = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(second);
    second.registerWorkflows(ManySteps.class).registerActivities(new Echo()).start();
    handle.signal("poke", "after");
    assertThat(handle.result(String.class)).isEqualTo("moving 0 1 [after]");
  }
}
