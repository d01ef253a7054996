package dev.perdura.internal.workflow;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Workflow executions kept in memory between their workflow tasks, so that a task for a cached run
 * (arriving on the worker's sticky queue with only the new events) continues it instead of replaying
 * from the first event. Bounded: the least recently used run is evicted (its threads released).
 *
 * <p>A run being worked on is taken out of the cache meanwhile, so eviction never touches it, and
 * is marked busy: a task of the same run that arrives before the previous one's handler has put the
 * run back (the server may hand out the next task as soon as the previous completion is durable,
 * before its caller hears back) waits for it instead of replaying the run a second time beside it.
 */
final class WorkflowCache {
  /** A cached run and the last history event it has seen. */
  record Entry(WorkflowRun run, long lastEventId) {}

  private final int capacity;
  private final LinkedHashMap<String, Entry> runs = new LinkedHashMap<>(16, 0.75f, true);
  /** Runs taken by a handler and not yet put back or released, with what their waiters wait on. */
  private final Map<String, CompletableFuture<Void>> busy = new HashMap<>();

  WorkflowCache(int capacity) {
    this.capacity = capacity;
  }

  /**
   * Takes the run for a task: waits while another handler has it, then marks it busy and removes
   * and returns its entry (null when not cached). Every take is followed by {@link #put} or {@link
   * #release}.
   *
   * @throws IllegalStateException if the run stays busy longer than {@code timeout}
   */
  Entry take(String runId, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<Void> previous;
      synchronized (this) {
        previous = busy.get(runId);
        if (previous == null) {
          busy.put(runId, new CompletableFuture<>());
          return runs.remove(runId);
        }
      }
      try {
        previous.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new IllegalStateException("run " + runId + " is still busy with its previous workflow task after "
            + timeout.toSeconds() + " s", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("a busy mark never fails", e);
      }
    }
  }

  /**
   * Caches a run after its task and ends its busy mark; returns what was evicted to make room (to be
   * closed by the caller).
   */
  List<WorkflowRun> put(String runId, WorkflowRun run, long lastEventId) {
    List<WorkflowRun> evicted = new ArrayList<>();
    CompletableFuture<Void> done;
    synchronized (this) {
      runs.put(runId, new Entry(run, lastEventId));
      var iterator = runs.entrySet().iterator();
      while (runs.size() > capacity && iterator.hasNext()) {
        Map.Entry<String, Entry> eldest = iterator.next();
        evicted.add(eldest.getValue().run());
        iterator.remove();
      }
      done = busy.remove(runId);
    }
    if (done != null) {
      done.complete(null);
    }
    return evicted;
  }

  /** Ends a run's busy mark without caching it (the run closed, or its task failed). */
  void release(String runId) {
    CompletableFuture<Void> done;
    synchronized (this) {
      done = busy.remove(runId);
    }
    if (done != null) {
      done.complete(null);
    }
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
