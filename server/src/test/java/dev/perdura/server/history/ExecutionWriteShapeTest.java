package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionKey;
import org.junit.jupiter.api.Test;

/** A change writes only the state, status and history length when nothing else of the row moved. */
class ExecutionWriteShapeTest {
  private static final ExecutionKey KEY = new ExecutionKey("ns", "wf", "run");

  private static ExecutionState state() {
    ExecutionState s = new ExecutionState();
    s.namespace = KEY.namespace();
    s.workflowId = KEY.workflowId();
    s.runId = KEY.runId();
    s.firstRunId = KEY.runId();
    s.workflowType = "Order";
    s.taskQueue = "orders";
    s.startTime = 1_000;
    s.executionTime = 1_000;
    return s;
  }

  /** A working copy as a change gets it: decoded from the stored row, with that row's columns. */
  private static Execution loaded() {
    ExecutionState stored = state();
    var row = new Execution(KEY, stored, 0, 0).toWrite(new StateCodec.Encoder()).row();
    Execution e = new Execution(KEY, StateCodec.decode(row.state()), 1, 2_000);
    e.readVisibility = row.visibility();
    return e;
  }

  @Test
  void movingStatusAndHistoryLengthIsAStateOnlyWrite() {
    Execution e = loaded();
    e.state.nextEventId += 3;
    e.state.status = Statuses.RUNNING + 1;

    assertThat(e.toWrite(new StateCodec.Encoder()).stateOnly()).isTrue();
  }

  @Test
  void anyOtherColumnMakesAFullWrite() {
    Execution closing = loaded();
    closing.state.closeTime = 5_000;
    Execution memo = loaded();
    memo.state.memo = new byte[] {1};
    Execution attributes = loaded();
    attributes.state.searchAttributes = new byte[] {2};

    assertThat(closing.toWrite(new StateCodec.Encoder()).stateOnly()).isFalse();
    assertThat(memo.toWrite(new StateCodec.Encoder()).stateOnly()).isFalse();
    assertThat(attributes.toWrite(new StateCodec.Encoder()).stateOnly()).isFalse();
    assertThat(new Execution(KEY, state(), 0, 0).toWrite(new StateCodec.Encoder()).stateOnly()).as("a new run").isFalse();
  }
}
