package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Long-polling readers of a run's history wait here until the run has an event they have not
 * seen, or closes. A reader registers before it re-reads, so a change between its read and its
 * wait is not missed, and {@linkplain #forget forgets} its future when it is done without being
 * woken. A reader waiting only for the close event is not woken by the run's other changes.
 */
final class HistoryWaiters {
  private record Waiter(long lastSeenEventId, boolean closeOnly, CompletableFuture<Void> future) {
    boolean wantedBy(int status, long lastEventId) {
      return status != Statuses.RUNNING || (!closeOnly && lastEventId > lastSeenEventId);
    }
  }

  private final Map<ExecutionKey, List<Waiter>> waiting = new ConcurrentHashMap<>();

  /**
   * Completes when the run has an event after {@code lastSeenEventId} (any event when {@code
   * closeOnly} is false) or when it closes.
   */
  CompletableFuture<Void> next(ExecutionKey key, long lastSeenEventId, boolean closeOnly) {
    Waiter waiter = new Waiter(lastSeenEventId, closeOnly, new CompletableFuture<>());
    waiting.compute(
        key,
        (k, list) -> {
          List<Waiter> updated = new ArrayList<>(list == null ? List.of() : list);
          updated.removeIf(w -> w.future().isDone());
          updated.add(waiter);
          return List.copyOf(updated);
        });
    return waiter.future();
  }

  /**
   * Unregisters a reader that stops waiting, woken or not; it must not stay registered, since a
   * run that has closed never changes again to sweep it out.
   */
  void forget(ExecutionKey key, CompletableFuture<Void> future) {
    waiting.computeIfPresent(key, (k, list) -> {
      List<Waiter> rest = list.stream().filter(w -> w.future() != future).toList();
      return rest.isEmpty() ? null : rest;
    });
  }

  /** Runs with a waiting reader, for tests and diagnostics. */
  int runsWaitedOn() {
    return waiting.size();
  }

  /** The run committed a change; it now has this status and last event id. */
  void changed(ExecutionKey key, int status, long lastEventId) {
    List<Waiter> seen = waiting.get(key);
    if (seen == null || !anyToWakeOrSweep(seen, status, lastEventId)) {
      return;
    }
    List<CompletableFuture<Void>> woken = new ArrayList<>();
    waiting.computeIfPresent(
        key,
        (k, list) -> {
          List<Waiter> rest = new ArrayList<>();
          for (Waiter w : list) {
            if (w.future().isDone()) {
              continue;
            }
            if (w.wantedBy(status, lastEventId)) {
              woken.add(w.future());
            } else {
              rest.add(w);
            }
          }
          return rest.isEmpty() ? null : List.copyOf(rest);
        });
    // Outside the map's lock: completing runs whatever waits on the future.
    woken.forEach(f -> f.complete(null));
  }

  private static boolean anyToWakeOrSweep(List<Waiter> waiters, int status, long lastEventId) {
    for (Waiter w : waiters) {
      if (w.future().isDone() || w.wantedBy(status, lastEventId)) {
        return true;
      }
    }
    return false;
  }

  void wakeAll() {
    for (ExecutionKey key : waiting.keySet()) {
      List<Waiter> list = waiting.remove(key);
      if (list != null) {
        list.forEach(w -> w.future().complete(null));
      }
    }
  }
}
