package dev.perdura.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client whose own worker runs the workflow type on the task queue gets each run's first workflow
 * task in the start response and hands it to that worker (eager workflow start).
 */
class EagerStartTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Echo {
    @ActivityMethod
    public String echo(String text) {
      return text;
    }
  }

  public static class OneStep {
    @WorkflowMethod
    public String run(String name) {
      return Workflow.executeActivity("echo", String.class, ActivityOptions.startToClose(Duration.ofSeconds(30)), name);
    }
  }

  private static List<HistoryEvent> history(WorkflowHandle handle) {
    return perdura.temporalClient().fetchHistory(handle.workflowId()).getHistory().getEventsList();
  }

  @Test
  void theFirstTaskOfRunsTheWorkersOwnClientStartsComesWithTheStart() {
    String queue = PerduraTestServer.uniqueQueue("eager");
    // Four slots: the normal and the sticky poller hold one each while they poll, the last task of
    // the previous run may still hold one, and one is free for the start. A slot that did not come
    // back after an eager start would leave none within a few runs.
    Worker worker = Worker.create(perdura.client(), queue,
        WorkerOptions.DEFAULTS.withMaxConcurrentWorkflowTasks(4).withWorkflowPollers(1));
    perdura.closeAfterTest(worker);
    worker.registerWorkflows(OneStep.class).registerActivities(new Echo()).start();

    List<WorkflowHandle> handles = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      WorkflowHandle handle = perdura.client().startWorkflow("OneStep",
          StartWorkflowOptions.of("eager-" + i + "-" + UUID.randomUUID(), queue), "run " + i);
      assertThat(handle.result(String.class)).isEqualTo("run " + i);
      handles.add(handle);
    }
    for (WorkflowHandle handle : handles) {
      List<HistoryEvent> events = history(handle);
      assertThat(events.get(1).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
      assertThat(events.get(2).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      // Started by the start request itself: scheduled and started in the same change.
      assertThat(events.get(2).getEventTime()).as("first task of %s", handle.workflowId())
          .isEqualTo(events.get(1).getEventTime());
      assertThat(events.get(3).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    }
  }

  @Test
  void withoutAWorkerOfItsOwnAClientStartsRunsForThePollers() throws InterruptedException {
    String queue = PerduraTestServer.uniqueQueue("not-eager");
    Worker stopped = Worker.create(perdura.client(), queue);
    stopped.registerWorkflows(OneStep.class).registerActivities(new Echo()).start();
    stopped.shutdown();
    assertThat(stopped.awaitTermination(Duration.ofSeconds(30))).isTrue();

    WorkflowHandle handle = perdura.client().startWorkflow("OneStep",
        StartWorkflowOptions.of("not-eager-" + UUID.randomUUID(), queue), "later");
    assertThat(history(handle)).extracting(HistoryEvent::getEventType)
        .as("a stopped worker takes no task").containsExactly(
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);

    Worker next = Worker.create(perdura.client(), queue);
    perdura.closeAfterTest(next);
    next.registerWorkflows(OneStep.class).registerActivities(new Echo()).start();
    assertThat(handle.result(String.class)).isEqualTo("later");
  }
}
