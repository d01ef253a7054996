package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Taking shards over: what the store holds for them comes back into this server's queues and
 * timers, and a task of a run taken over, for a queue another server serves, is handed to that
 * server again (its former owner may have gone before handing it over).
 */
class ShardTakeoverTest {
  private static final int SHARDS = 2;

  private final SqliteStore store = migrated(SqliteStore.inMemory());
  private final Matching matching = new Matching();
  private final List<TaskRow> handedOver = new CopyOnWriteArrayList<>();
  private HistoryService history;

  /** Peers that only record the tasks handed to them. */
  private final Peers peers = new Peers() {
    @Override
    public void addTask(TaskRow task) {
      handedOver.add(task);
    }

    @Override
    public Optional<PollWorkflowTaskQueueResponse> startWorkflowTask(TaskRow task, String identity, String requestId) {
      throw new AssertionError("not expected");
    }

    @Override
    public Optional<PollActivityTaskQueueResponse> startActivityTask(TaskRow task, String identity, String requestId) {
      throw new AssertionError("not expected");
    }

    @Override
    public Optional<String> startChild(ExecutionKey parent, long initiatedId, String namespace, String workflowId) {
      throw new AssertionError("not expected");
    }

    @Override
    public Optional<String> deliverExternal(ExecutionKey source, long initiatedId, String namespace,
        String workflowId) {
      throw new AssertionError("not expected");
    }

    @Override
    public void notifyParent(ExecutionKey child, String parentNamespace, String parentWorkflowId) {
      throw new AssertionError("not expected");
    }

    @Override
    public void applyPolicyToChild(ExecutionKey parent, String namespace, String workflowId, String firstRunId,
        ParentClosePolicy policy) {
      throw new AssertionError("not expected");
    }

    @Override
    public void fireTimer(TimerRow timer) {
      throw new AssertionError("not expected");
    }
  };

  private static SqliteStore migrated(SqliteStore store) {
    store.migrate();
    return store;
  }

  @AfterEach
  void close() {
    if (history != null) {
      history.close();
    }
    matching.close();
    store.close();
  }

  private int ids;

  /** A new workflow id whose run lands on {@code shard}. */
  private String workflowOn(int shard) {
    while (true) {
      String id = "wf-" + ids++;
      if (HistoryService.runShard("default", id, SHARDS) == shard) {
        return id;
      }
    }
  }

  /** A queue name that {@code shard}'s owner serves. */
  private static String queueOn(int shard) {
    for (int i = 0; ; i++) {
      if (HistoryService.queueShard("default", "q-" + i, SHARDS) == shard) {
        return "q-" + i;
      }
    }
  }

  /** Stores a run on {@code runShard} with one backlog task on a queue of {@code queueShard}. */
  private TaskRow storeRunWithTask(int runShard, int queueShard) {
    ExecutionKey key = new ExecutionKey("default", workflowOn(runShard), "run");
    TaskRow task = new TaskRow(key, TaskKind.ACTIVITY, queueOn(queueShard), 5, 1, 0, "", 0f, 1);
    ExecutionState state = new ExecutionState();
    state.namespace = key.namespace();
    state.workflowId = key.workflowId();
    state.runId = key.runId();
    state.queuedTasks.add(task);
    VisibilityRow visibility = new VisibilityRow("T", "q", 1, 1, 0, 1, 1, key.runId(), new byte[0], new byte[0]);
    store.commit(List.of(new ExecutionWrite(new ExecutionRow(key, 1, new StateCodec.Encoder().encode(state), visibility), 0, true,
        List.of(), true, false)));
    return task;
  }

  private void acquire(int... shards) {
    Map<Integer, Lease> taken = new HashMap<>();
    for (int shard : shards) {
      taken.put(shard, null);
    }
    history.acquire(taken);
  }

  @Test
  void aTaskOfARunTakenOverGoesToTheServerOfItsQueue() {
    TaskRow remoteQueue = storeRunWithTask(0, 1);
    TaskRow localQueue = storeRunWithTask(0, 0);
    TaskRow otherRunsShard = storeRunWithTask(1, 1);
    history = new HistoryService(store, matching, Clock.systemUTC(), SHARDS, new SimpleMeterRegistry(), peers);

    acquire(0);

    assertThat(handedOver).containsExactly(remoteQueue);
    assertThat(matching.queue("default", localQueue.taskQueue(), TaskKind.ACTIVITY).backlogSize()).isEqualTo(1);
    assertThat(matching.queue("default", otherRunsShard.taskQueue(), TaskKind.ACTIVITY).backlogSize())
        .as("neither its run nor its queue is this server's").isZero();
  }

  @Test
  void takingAQueuesShardRestoresItsBacklogWhateverShardItsRunsAreOn() {
    TaskRow fromOtherShard = storeRunWithTask(0, 1);
    TaskRow fromSameShard = storeRunWithTask(1, 1);
    history = new HistoryService(store, matching, Clock.systemUTC(), SHARDS, new SimpleMeterRegistry(), peers);

    acquire(1);

    assertThat(handedOver).isEmpty();
    assertThat(matching.queue("default", fromOtherShard.taskQueue(), TaskKind.ACTIVITY).backlogSize()).isEqualTo(2);
    assertThat(fromSameShard.taskQueue()).isEqualTo(fromOtherShard.taskQueue());
  }
}
