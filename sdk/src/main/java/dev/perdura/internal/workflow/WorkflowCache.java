package dev.perdura.internal.workflow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Workflow executions kept in memory between their workflow tasks, so that a task for a cached run
 * (arriving on the worker's sticky queue with only the new events) continues it instead of replaying
 * from the first event. Bounded: the least recently used run is evicted (its threads released). A run
 * being worked on is taken out of the cache meanwhile, so eviction never touches it.
 */
final class WorkflowCache {
  /** A cached run and the last history event it has seen. */
  record Entry(WorkflowRun run, long lastEventId) {}

  private final int capacity;
  private final LinkedHashMap<String, Entry> runs = new LinkedHashMap<>(16, 0.75f, true);

  WorkflowCache(int capacity) {
    this.capacity = capacity;
  }

  /** Removes and returns the run's entry, if cached. */
  synchronized Entry take(String runId) {
    return runs.remove(runId);
  }

  /** Caches a run after its task; returns what was evicted to make room (to be closed by the caller). */
  List<WorkflowRun> put(String runId, WorkflowRun run, long lastEventId) {
    List<WorkflowRun> evicted = new ArrayList<>();
    synchronized (this) {
      runs.put(runId, new Entry(run, lastEventId));
      var iterator = runs.entrySet().iterator();
      while (runs.size() > capacity && iterator.hasNext()) {
        Map.Entry<String, Entry> eldest = iterator.next();
        evicted.add(eldest.getValue().run());
        iterator.remove();
      }
    }
    return evicted;
  }

  /** Empties the cache; returns the runs to close. */
  synchronized List<WorkflowRun> clear() {
    List<WorkflowRun> all = runs.values().stream().map(Entry::run).toList();
    runs.clear();
    return all;
  }

  synchronized int size() {
    return runs.size();
  }
}
