package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import io.temporal.api.enums.v1.EventType;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Continue-as-new, side effects and versioning markers. */
class WorkflowFeaturesTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  private Worker worker(String queue, int cacheSize, Class<?>... workflows) {
    Worker worker = Worker.create(perdura.client(), queue, WorkerOptions.DEFAULTS.withWorkflowCacheSize(cacheSize));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(workflows).start();
    return worker;
  }

  public static class Countdown {
    @WorkflowMethod
    public int run(int remaining, int total) {
      if (remaining == 0) {
        return total;
      }
      throw Workflow.continueAsNew(remaining - 1, total + remaining);
    }
  }

  @Test
  void continueAsNewChainsRunsAndTheResultComesFromTheLast() {
    String queue = PerduraTestServer.uniqueQueue("countdown");
    worker(queue, 600, Countdown.class);
    String id = "countdown-" + UUID.randomUUID();
    WorkflowHandle first = perdura.client().startWorkflow("Countdown", StartWorkflowOptions.of(id, queue), 4, 0);
    assertThat(first.result(Integer.class)).isEqualTo(10);
    assertThat(perdura.client().workflowHandle(id).describe().runId()).isNotEqualTo(first.runId());
  }

  static final AtomicInteger sideEffectRuns = new AtomicInteger();

  public static class Rolls {
    @WorkflowMethod
    public String run() {
      int roll = Workflow.sideEffect(Integer.class, () -> {
        sideEffectRuns.incrementAndGet();
        return 4; // chosen by a fair dice roll
      });
      Workflow.sleep(Duration.ofMillis(100));
      Workflow.sleep(Duration.ofMillis(100));
      return "rolled " + roll + ", id " + Workflow.randomUUID().toString().length();
    }
  }

  @Test
  void aSideEffectRunsOnceAndReplaysFromItsMarker() {
    String queue = PerduraTestServer.uniqueQueue("rolls");
    worker(queue, 0, Rolls.class);
    int before = sideEffectRuns.get();
    String id = "rolls-" + UUID.randomUUID();
    assertThat(perdura.client().executeWorkflow("Rolls", String.class, StartWorkflowOptions.of(id, queue)))
        .isEqualTo("rolled 4, id 36");
    assertThat(sideEffectRuns.get() - before).as("runs of the side effect despite three full replays").isEqualTo(1);
    assertThat(perdura.temporalClient().fetchHistory(id).getHistory().getEventsList())
        .filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED).hasSize(1);
  }

  /** The original code: one timer. */
  public static class Shipping {
    @WorkflowMethod(name = "Shipping")
    public String run() {
      Workflow.sleep(Duration.ofSeconds(2));
      return "shipped";
    }
  }

  /** The changed code: a second timer, behind a version check. */
  public static class ShippingV2 {
    @WorkflowMethod(name = "Shipping")
    public String run() {
      int version = Workflow.getVersion("extra-wait", Workflow.DEFAULT_VERSION, 1);
      if (version == 1) {
        Workflow.sleep(Duration.ofMillis(100));
      }
      Workflow.sleep(Duration.ofSeconds(2));
      return "shipped (version " + version + ")";
    }
  }

  @Test
  void getVersionLetsChangedCodeFinishRunsStartedByTheOldCode() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("versions");
    Worker old = worker(queue, 600, Shipping.class);
    String oldId = "old-" + UUID.randomUUID();
    WorkflowHandle oldRun = perdura.client().startWorkflow("Shipping", StartWorkflowOptions.of(oldId, queue));
    await().atMost(Duration.ofSeconds(20)).until(() -> perdura.temporalClient().fetchHistory(oldId).getHistory()
        .getEventsList().stream().anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED));
    old.shutdown();
    assertThat(old.awaitTermination(Duration.ofSeconds(30))).isTrue();

    worker(queue, 0, ShippingV2.class);
    assertThat(oldRun.result(String.class)).isEqualTo("shipped (version -1)");
    assertThat(perdura.client().executeWorkflow("Shipping", String.class,
        StartWorkflowOptions.of("new-" + UUID.randomUUID(), queue))).isEqualTo("shipped (version 1)");
  }
}
