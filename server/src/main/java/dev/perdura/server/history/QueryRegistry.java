package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionKey;
import io.temporal.api.query.v1.WorkflowQuery;
import io.temporal.api.query.v1.WorkflowQueryResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Queries in flight. Queries are not durable: a query lives as long as the caller's RPC waits for
 * it. A query either waits for the run's next workflow task (and rides in its {@code queries}
 * map) or goes to a worker as a query-only task.
 */
final class QueryRegistry {
  /** One query and the answer its caller waits for. */
  record PendingQuery(String id, ExecutionKey execution, WorkflowQuery query, CompletableFuture<WorkflowQueryResult> answer) {}

  private final AtomicLong ids = new AtomicLong();
  private final Map<String, PendingQuery> byId = new ConcurrentHashMap<>();
  private final Map<ExecutionKey, List<PendingQuery>> waitingForTask = new ConcurrentHashMap<>();

  PendingQuery register(ExecutionKey execution, WorkflowQuery query) {
    PendingQuery pending =
        new PendingQuery(Long.toString(ids.incrementAndGet()), execution, query, new CompletableFuture<>());
    byId.put(pending.id(), pending);
    return pending;
  }

  /** Numeric form of a query id, used as the negative id of a query-only task. */
  static long numericId(String id) {
    return Long.parseLong(id);
  }

  PendingQuery find(String id) {
    return byId.get(id);
  }

  synchronized void waitForTask(PendingQuery query) {
    waitingForTask.computeIfAbsent(query.execution(), k -> new ArrayList<>()).add(query);
  }

  /** Takes the queries waiting for the run's next workflow task (those still wanted). */
  synchronized List<PendingQuery> takeWaiting(ExecutionKey execution) {
    List<PendingQuery> taken = waitingForTask.remove(execution);
    if (taken == null) {
      return List.of();
    }
    taken.removeIf(q -> q.answer().isDone());
    return taken;
  }

  void answer(String id, WorkflowQueryResult result) {
    PendingQuery pending = byId.remove(id);
    if (pending != null) {
      pending.answer().complete(result);
    }
  }

  synchronized void forget(PendingQuery query) {
    byId.remove(query.id());
    List<PendingQuery> list = waitingForTask.get(query.execution());
    if (list != null) {
      list.remove(query);
    }
  }
}
