package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Long-polling readers of a run's history wait here for its next committed change. A reader
 * registers before it re-reads the store, so a change between its read and its wait is not missed.
 */
final class HistoryWaiters {
  private final Map<ExecutionKey, List<CompletableFuture<Void>>> waiting = new ConcurrentHashMap<>();

  CompletableFuture<Void> next(ExecutionKey key) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    waiting.compute(
        key,
        (k, list) -> {
          List<CompletableFuture<Void>> updated = list == null ? new ArrayList<>() : list;
          updated.removeIf(CompletableFuture::isDone);
          updated.add(future);
          return updated;
        });
    return future;
  }

  void changed(ExecutionKey key) {
    List<CompletableFuture<Void>> list = waiting.remove(key);
    if (list != null) {
      list.forEach(f -> f.complete(null));
    }
  }

  void wakeAll() {
    waiting.keySet().forEach(this::changed);
  }
}
