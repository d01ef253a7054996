package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Timestamps;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How close to their due time durable timers fire under light load: user timers and an activity's
 * schedule-to-start timeout, measured from the event times the server writes. The bound asserted is
 * loose on purpose (shared 2-core machines); the measured lateness is printed for the record.
 */
class TimerPrecisionTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  private static final int TIMER_MILLIS = 700;

  @ActivityInterface
  public interface Never {
    void never();
  }

  @WorkflowInterface
  public interface Waiter {
    @WorkflowMethod
    String run(String unpolledQueue);
  }

  public static class WaiterImpl implements Waiter {
    @Override
    public String run(String unpolledQueue) {
      for (int i = 0; i < 3; i++) {
        Workflow.sleep(Duration.ofMillis(TIMER_MILLIS));
      }
      Never never = Workflow.newActivityStub(Never.class, ActivityOptions.newBuilder()
          .setTaskQueue(unpolledQueue)
          .setScheduleToStartTimeout(Duration.ofMillis(TIMER_MILLIS))
          .setStartToCloseTimeout(Duration.ofSeconds(10))
          .build());
      try {
        never.never();
        return "ran";
      } catch (ActivityFailure expected) {
        return "timed out";
      }
    }
  }

  private static long millis(HistoryEvent event) {
    return Timestamps.toMillis(event.getEventTime());
  }

  @Test
  void timersAndTimeoutsFireCloseToTheirDueTime() {
    String queue = PerduraServerExtension.uniqueQueue("precision");
    var factory = perdura.newWorkerFactory();
    factory.newWorker(queue).registerWorkflowImplementationTypes(WaiterImpl.class);
    factory.start();

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = "precision-" + UUID.randomUUID();
      ids.add(id);
      WorkflowClient.start(perdura.client().newWorkflowStub(Waiter.class, WorkflowOptions.newBuilder()
          .setTaskQueue(queue).setWorkflowId(id).build())::run, "nobody-" + UUID.randomUUID());
    }
    List<Long> lateness = new ArrayList<>();
    for (String id : ids) {
      assertThat(WorkflowStub.fromTyped(perdura.client().newWorkflowStub(Waiter.class, id)).getResult(String.class))
          .isEqualTo("timed out");
      List<HistoryEvent> events = perdura.client().fetchHistory(id).getHistory().getEventsList();
      HistoryEvent started = null;
      HistoryEvent scheduled = null;
      for (HistoryEvent event : events) {
        if (event.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED) {
          started = event;
        } else if (event.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED) {
          lateness.add(millis(event) - millis(started) - TIMER_MILLIS);
        } else if (event.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
          scheduled = event;
        } else if (event.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) {
          lateness.add(millis(event) - millis(scheduled) - TIMER_MILLIS);
        }
      }
    }
    List<Long> sorted = lateness.stream().sorted().toList();
    System.out.printf("timer lateness over %d firings: median %d ms, max %d ms%n",
        sorted.size(), sorted.get(sorted.size() / 2), sorted.getLast());
    assertThat(sorted).hasSize(ids.size() * 4);
    assertThat(sorted.getFirst()).as("no timer fires early").isGreaterThanOrEqualTo(0);
    assertThat(sorted.get(sorted.size() / 2)).as("median lateness, ms").isLessThan(500);
  }
}
