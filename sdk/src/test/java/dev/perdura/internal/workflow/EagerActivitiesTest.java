package dev.perdura.internal.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.internal.grpc.ClientAccess;
import dev.perdura.internal.grpc.ServiceConnection;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The workflow-task side of eager activities, against a real server: which activities the completion
 * asks to start at once, and what becomes of the slots reserved for them.
 */
class EagerActivitiesTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final ActivityOptions OPTIONS = ActivityOptions.startToClose(Duration.ofSeconds(30));

  public static class Fanout {
    @WorkflowMethod
    public String run(String otherQueue) {
      Workflow.startActivity("local_kind", String.class, OPTIONS, 1);
      Workflow.startActivity("local_kind", String.class, OPTIONS, 2);
      Workflow.startActivity("unknown_kind", String.class, OPTIONS, 3);
      Workflow.startActivity("local_kind", String.class, OPTIONS.withTaskQueue(otherQueue), 4);
      Workflow.sleep(Duration.ofMinutes(10));
      return "done";
    }
  }

  /** Slots for {@code local_kind} only, as many as {@code free}. */
  static final class RecordingSlots implements EagerActivities {
    final AtomicInteger free;
    final List<String> reservedFor = new CopyOnWriteArrayList<>();
    final AtomicInteger released = new AtomicInteger();

    RecordingSlots(int free) {
      this.free = new AtomicInteger(free);
    }

    @Override
    public boolean tryReserve(String activityType) {
      if (!activityType.equals("local_kind") || free.get() == 0) {
        return false;
      }
      free.decrementAndGet();
      reservedFor.add(activityType);
      return true;
    }

    @Override
    public void release(int slots) {
      released.addAndGet(slots);
    }
  }

  /** The slots, and the activity tasks the handler gave back to run. */
  record Handled(RecordingSlots slots, List<PollActivityTaskQueueResponse> started) {}

  private Handled handleFirstTask(int freeSlots) {
    String queue = PerduraTestServer.uniqueQueue("eager");
    perdura.client().startWorkflow("Fanout", StartWorkflowOptions.of("fanout-" + UUID.randomUUID(), queue),
        queue + "-other");
    ServiceConnection connection = ClientAccess.connection(perdura.client());
    PollWorkflowTaskQueueResponse task = connection.longPoll().pollWorkflowTaskQueue(
        PollWorkflowTaskQueueRequest.newBuilder()
            .setNamespace(perdura.client().namespace())
            .setTaskQueue(TaskQueue.newBuilder().setName(queue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setIdentity("eager-test")
            .build());
    WorkflowRegistry registry = new WorkflowRegistry();
    registry.register(Fanout.class);
    RecordingSlots slots = new RecordingSlots(freeSlots);
    WorkflowTaskHandler handler = new WorkflowTaskHandler(perdura.client(), connection, registry, queue, null, 0,
        null, slots);
    return new Handled(slots, handler.handle(task));
  }

  @Test
  void activitiesOfThisWorkerOnItsOwnQueueStartInTheCompletionAndUseTheirSlots() {
    Handled handled = handleFirstTask(10);
    RecordingSlots slots = handled.slots();

    // Not the unknown type (no slot), not the one on another queue (never asked).
    assertThat(slots.reservedFor).containsExactly("local_kind", "local_kind");
    assertThat(handled.started()).extracting(PollActivityTaskQueueResponse::getActivityId).containsExactly("1", "2");
    assertThat(handled.started()).allSatisfy(t -> assertThat(t.getTaskToken()).isNotEmpty());
    assertThat(slots.released).hasValue(0);
  }

  @Test
  void withoutAFreeSlotTheActivityGoesThroughItsQueue() {
    Handled handled = handleFirstTask(1);
    RecordingSlots slots = handled.slots();

    assertThat(slots.reservedFor).containsExactly("local_kind");
    assertThat(handled.started()).extracting(PollActivityTaskQueueResponse::getActivityId).containsExactly("1");
    assertThat(slots.released).hasValue(0);
  }
}
