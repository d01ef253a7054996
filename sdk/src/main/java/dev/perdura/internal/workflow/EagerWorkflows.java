package dev.perdura.internal.workflow;

import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The workers of one client that can take the first workflow task of a run this client starts
 * (eager workflow start): the start request asks the server for the task, and it comes back in the
 * response instead of through a poll. One round trip less per workflow, and no wait for a poller.
 */
public final class EagerWorkflows {

  /** A worker's side: a workflow-task slot held for one start. */
  public interface Slots {
    /** Takes a slot when this worker runs workflows of the type and has a slot free. */
    boolean tryReserve(String workflowType);

    /** Runs the task the server started for a reserved slot; the slot goes with it. */
    void run(PollWorkflowTaskQueueResponse task);

    /** Gives back a reserved slot that got no task. */
    void release();
  }

  /** A reserved slot of one worker. */
  public record Reservation(Slots slots) {
    /** Runs the task the start response carried, or gives the slot back when it carried none. */
    public void complete(Optional<PollWorkflowTaskQueueResponse> task) {
      if (task.isPresent()) {
        slots.run(task.get());
      } else {
        slots.release();
      }
    }
  }

  private final Map<String, List<Slots>> byTaskQueue = new ConcurrentHashMap<>();

  public void register(String taskQueue, Slots slots) {
    byTaskQueue.computeIfAbsent(taskQueue, q -> new CopyOnWriteArrayList<>()).add(slots);
  }

  public void unregister(String taskQueue, Slots slots) {
    List<Slots> workers = byTaskQueue.get(taskQueue);
    if (workers != null) {
      workers.remove(slots);
    }
  }

  /** A slot of a worker of this task queue that runs the type, if one has a slot free now. */
  public Optional<Reservation> reserve(String taskQueue, String workflowType) {
    List<Slots> workers = byTaskQueue.get(taskQueue);
    if (workers == null) {
      return Optional.empty();
    }
    for (Slots slots : workers) {
      if (slots.tryReserve(workflowType)) {
        return Optional.of(new Reservation(slots));
      }
    }
    return Optional.empty();
  }
}
