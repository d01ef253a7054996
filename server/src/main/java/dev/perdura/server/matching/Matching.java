package dev.perdura.server.matching;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.Objects;
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

  /** Routes a task to its queue: the execution's namespace, the task's queue name and kind. */
  public void add(TaskRow task) {
    queue(task.execution().namespace(), task.taskQueue(), task.kind()).add(task);
  }

  /** Drops an execution's backlog tasks from every queue of its namespace; returns how many. */
  public int removeExecution(ExecutionKey execution) {
    int removed = 0;
    for (TaskQueueDispatcher queue : queues.values()) {
      if (queue.namespace().equals(execution.namespace())) {
        removed += queue.removeExecution(execution);
      }
    }
    return removed;
  }

  /** Closes every queue, ending their waiting polls; queues named later start closed. */
  @Override
  public void close() {
    closed = true;
    queues.values().forEach(TaskQueueDispatcher::close);
  }
}
