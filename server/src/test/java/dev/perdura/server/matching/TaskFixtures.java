package dev.perdura.server.matching;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Builds tasks for the matching tests; all in namespace "ns", queue "q", kind ACTIVITY. */
final class TaskFixtures {
  static final String NAMESPACE = "ns";
  static final String QUEUE = "q";
  static final PollReservation.Poller POLLER = new PollReservation.Poller("worker-1", "request-1");

  private TaskFixtures() {}

  static TaskQueueDispatcher dispatcher() {
    return new TaskQueueDispatcher(NAMESPACE, QUEUE, TaskKind.ACTIVITY);
  }

  static ExecutionKey execution(String workflowId) {
    return new ExecutionKey(NAMESPACE, workflowId, "run-1");
  }

  static TaskRow task(String workflowId, long scheduledEventId) {
    return task(workflowId, scheduledEventId, 0, "", 0f);
  }

  static TaskRow task(
      String workflowId, long scheduledEventId, int priorityKey, String fairnessKey, float weight) {
    return new TaskRow(
        execution(workflowId),
        TaskKind.ACTIVITY,
        QUEUE,
        scheduledEventId,
        1,
        priorityKey,
        fairnessKey,
        weight,
        0L);
  }

  /** A task of a fairness key; its workflow id is the key, so shares can be counted by it. */
  static TaskRow keyed(String fairnessKey, float weight, long scheduledEventId) {
    return task(fairnessKey, scheduledEventId, 0, fairnessKey, weight);
  }

  /** Polls a dispatcher whose backlog must hold a task. */
  static TaskRow next(TaskQueueDispatcher dispatcher) {
    CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
    if (!poll.isDone()) {
      poll.cancel(false);
      throw new AssertionError("backlog unexpectedly empty");
    }
    return queued(poll.join());
  }

  /** The task a poll got from the queue (not started for it by a history change). */
  static TaskRow queued(Dispatch dispatch) {
    return ((Dispatch.Queued) dispatch).task();
  }

  /** The workflow ids of the next {@code count} dispatched tasks. */
  static List<String> dispatchWorkflowIds(TaskQueueDispatcher dispatcher, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(next(dispatcher).execution().workflowId());
    }
    return ids;
  }
}
