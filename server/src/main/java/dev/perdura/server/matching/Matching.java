package dev.perdura.server.matching;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The matching service: one {@link TaskQueueDispatcher} per (namespace, task queue name, kind),
 * created on first use. Task queues need no registration; a poll and an add that name the same
 * queue meet in the same dispatcher. Thread-safe.
 */
public final class Matching implements AutoCloseable {
  private record QueueId(String namespace, String taskQueue, TaskKind kind) {}

  private final ConcurrentMap<QueueId, TaskQueueDispatcher> queues = new ConcurrentHashMap<>();
  /**
   * The queues each execution has had tasks in since it last left matching, so that dropping a
   * closed run's backlog visits those queues only, not every queue of the namespace.
   */
  private final ConcurrentMap<ExecutionKey, Set<QueueId>> queuesOf = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** The dispatcher of a queue, created if this is the first time the queue is named. */
  public TaskQueueDispatcher queue(String namespace, String taskQueue, TaskKind kind) {
    QueueId id =
        new QueueId(
            Objects.requireNonNull(namespace, "namespace"),
            Objects.requireNonNull(taskQueue, "taskQueue"),
            Objects.requireNonNull(kind, "kind"));
    TaskQueueDispatcher queue =
        queues.computeIfAbsent(
            id, q -> new TaskQueueDispatcher(q.namespace(), q.taskQueue(), q.kind()));
    // A queue created while close() runs may have been missed by its sweep; closing twice is fine.
    if (closed) {
      queue.close();
    }
    return queue;
  }

  /**
   * Routes a task to its queue: the execution's namespace, the task's queue name and kind. The
   * queue is remembered for the run, so that {@link #removeExecution} drops the run's backlog when
   * it closes.
   */
  public void add(TaskRow task) {
    queuesOf
        .computeIfAbsent(task.execution(), k -> ConcurrentHashMap.newKeySet())
        .add(new QueueId(task.execution().namespace(), task.taskQueue(), task.kind()));
    queue(task.execution().namespace(), task.taskQueue(), task.kind()).add(task);
  }

  /**
   * Routes a task of a run that another server owns: nothing is remembered for the run, whose close
   * this server never sees; such a task left behind by its closed run is dropped when a poll finds
   * it stale.
   */
  public void addForeign(TaskRow task) {
    queue(task.execution().namespace(), task.taskQueue(), task.kind()).add(task);
  }

  /** Tasks in the backlogs of all queues (each queue counted under its own lock; for metrics). */
  public int backlogSize() {
    return queues.values().stream().mapToInt(TaskQueueDispatcher::backlogSize).sum();
  }

  /** Polls waiting in all queues (for metrics). */
  public int waitingPolls() {
    return queues.values().stream().mapToInt(TaskQueueDispatcher::waitingPollers).sum();
  }

  /** Drops an execution's backlog tasks from every queue it had tasks in; returns how many. */
  public int removeExecution(ExecutionKey execution) {
    Set<QueueId> used = queuesOf.remove(execution);
    if (used == null) {
      return 0;
    }
    int removed = 0;
    for (QueueId id : used) {
      TaskQueueDispatcher queue = queues.get(id);
      if (queue != null) {
        removed += queue.removeExecution(execution);
      }
    }
    return removed;
  }

  /**
   * Closes and forgets the queues {@code which} selects (by namespace and queue name), ending their
   * waiting polls: another server serves them now. Returns how many queues went.
   */
  public int closeQueues(java.util.function.BiPredicate<String, String> which) {
    int closedQueues = 0;
    var entries = queues.entrySet().iterator();
    while (entries.hasNext()) {
      var entry = entries.next();
      if (which.test(entry.getKey().namespace(), entry.getKey().taskQueue())) {
        entries.remove();
        entry.getValue().close();
        closedQueues++;
      }
    }
    return closedQueues;
  }

  /** Closes every queue, ending their waiting polls; queues named later start closed. */
  @Override
  public void close() {
    closed = true;
    queues.values().forEach(TaskQueueDispatcher::close);
  }
}
