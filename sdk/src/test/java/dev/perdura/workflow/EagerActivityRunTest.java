package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An activity that a workflow task starts eagerly runs on the thread that handled the task, after
 * that task's slot is given back: a long activity does not keep other workflows' tasks waiting.
 */
class EagerActivityRunTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, CountDownLatch> GATES = new ConcurrentHashMap<>();
  static final Map<String, CountDownLatch> WAITING = new ConcurrentHashMap<>();
  static final ActivityOptions OPTIONS = ActivityOptions.startToClose(Duration.ofSeconds(60));

  public static class Gate {
    @ActivityMethod
    public boolean waitFor(String gate) throws InterruptedException {
      WAITING.get(gate).countDown();
      return GATES.get(gate).await(45, TimeUnit.SECONDS);
    }

    @ActivityMethod
    public boolean open(String gate) {
      GATES.get(gate).countDown();
      return true;
    }
  }

  public static class Waiter {
    @WorkflowMethod
    public boolean run(String gate) {
      return Workflow.executeActivity("waitFor", Boolean.class, OPTIONS, gate);
    }
  }

  public static class Opener {
    @WorkflowMethod
    public boolean run(String gate) {
      return Workflow.executeActivity("open", Boolean.class, OPTIONS, gate);
    }
  }

  @Test
  void aLongEagerActivityDoesNotHoldTheWorkflowTaskSlotOfTheTaskThatStartedIt() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("eager-run");
    String gate = "gate-" + UUID.randomUUID();
    GATES.put(gate, new CountDownLatch(1));
    WAITING.put(gate, new CountDownLatch(1));
    // Two workflow-task slots, both taken by the normal and the sticky poller while they poll: the
    // opener's task can only be handled once the waiter's task has given its slot back, while the
    // waiter's activity still runs.
    Worker worker = Worker.create(perdura.client(), queue,
        WorkerOptions.DEFAULTS.withMaxConcurrentWorkflowTasks(2).withWorkflowPollers(1));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(Waiter.class, Opener.class).registerActivities(new Gate()).start();

    WorkflowHandle waiter = perdura.client().startWorkflow("Waiter",
        StartWorkflowOptions.of("waiter-" + UUID.randomUUID(), queue), gate);
    assertThat(WAITING.get(gate).await(30, TimeUnit.SECONDS)).as("the waiter's activity runs").isTrue();
    WorkflowHandle opener = perdura.client().startWorkflow("Opener",
        StartWorkflowOptions.of("opener-" + UUID.randomUUID(), queue), gate);

    assertThat(opener.result(Boolean.class)).isTrue();
    assertThat(waiter.result(Boolean.class)).as("the gate opened before the waiter gave up").isTrue();
  }
}
