package dev.perdura.internal.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which worker takes the first task of a run its client starts, and what becomes of its slot. */
class EagerWorkflowsTest {

  /** A worker with some free slots that runs one workflow type. */
  static final class FakeSlots implements EagerWorkflows.Slots {
    final String type;
    int free;
    final List<PollWorkflowTaskQueueResponse> ran = new ArrayList<>();

    FakeSlots(String type, int free) {
      this.type = type;
      this.free = free;
    }

    @Override
    public boolean tryReserve(String workflowType) {
      if (!workflowType.equals(type) || free == 0) {
        return false;
      }
      free--;
      return true;
    }

    @Override
    public void run(PollWorkflowTaskQueueResponse task) {
      ran.add(task);
    }

    @Override
    public void release() {
      free++;
    }
  }

  @Test
  void aWorkerOfTheQueueThatRunsTheTypeAndHasASlotIsReserved() {
    EagerWorkflows eager = new EagerWorkflows();
    FakeSlots orders = new FakeSlots("Order", 1);
    FakeSlots refunds = new FakeSlots("Refund", 5);
    eager.register("q", refunds);
    eager.register("q", orders);

    assertThat(eager.reserve("other-queue", "Order")).isEmpty();
    assertThat(eager.reserve("q", "Unknown")).isEmpty();
    Optional<EagerWorkflows.Reservation> first = eager.reserve("q", "Order");
    assertThat(first).isPresent();
    assertThat(orders.free).isZero();
    assertThat(eager.reserve("q", "Order")).as("no slot left").isEmpty();

    PollWorkflowTaskQueueResponse task = PollWorkflowTaskQueueResponse.newBuilder().setAttempt(1).build();
    first.get().complete(Optional.of(task));
    assertThat(orders.ran).containsExactly(task);
    assertThat(orders.free).as("the slot went with the task").isZero();
  }

  @Test
  void aStartAnsweredWithoutATaskGivesTheSlotBack() {
    EagerWorkflows eager = new EagerWorkflows();
    FakeSlots orders = new FakeSlots("Order", 1);
    eager.register("q", orders);
    eager.reserve("q", "Order").orElseThrow().complete(Optional.empty());
    assertThat(orders.free).isEqualTo(1);
    assertThat(orders.ran).isEmpty();
  }

  @Test
  void anUnregisteredWorkerIsNotOffered() {
    EagerWorkflows eager = new EagerWorkflows();
    FakeSlots orders = new FakeSlots("Order", 3);
    eager.register("q", orders);
    eager.unregister("q", orders);
    assertThat(eager.reserve("q", "Order")).isEmpty();
  }
}
