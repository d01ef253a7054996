package dev.perdura.server.store;

import java.util.List;
import java.util.Optional;

/**
 * The one persistence interface of the server. Implementations: SQLite (embedded default) and,
 * later, PostgreSQL. Nothing here is SQLite-specific: every method is a plain query or one
 * transaction.
 *
 * <p>Thread safety: all methods may be called from any thread. {@link #commit} is atomic: all of
 * its writes land, or none.
 */
public interface Store extends AutoCloseable {

  /** Creates or upgrades the schema to the newest version. Idempotent. */
  void migrate();

  Optional<NamespaceRecord> findNamespace(String name);

  List<NamespaceRecord> listNamespaces();

  /** Inserts a namespace; false when one with that name exists (nothing changed). */
  boolean insertNamespace(NamespaceRecord namespace);

  /** The run id the workflow id currently points at (running or the last closed run). */
  Optional<String> findCurrentRunId(String namespace, String workflowId);

  Optional<ExecutionRow> findExecution(ExecutionKey key);

  /**
   * One page of the workflow ids that have a current run, with that run, ordered by namespace then
   * workflow id, starting after ({@code afterNamespace}, {@code afterWorkflowId}); ("", "") for the
   * first page.
   */
  List<ExecutionKey> listCurrentRuns(String afterNamespace, String afterWorkflowId, int limit);

  /**
   * {@link #findCurrentRunId} for the thread that commits the changes of that workflow id (its history
   * shard), read where that thread writes. SQLite drops a connection's page cache whenever another
   * connection has committed, so on a reader connection every lookup between two commits starts
   * cold, while the writing connection's cache holds the pages it has just written.
   */
  default Optional<String> findCurrentRunIdToWrite(String namespace, String workflowId) {
    return findCurrentRunId(namespace, workflowId);
  }

  /** {@link #findExecution} for the thread that commits that run's changes (see {@link #findCurrentRunIdToWrite}). */
  default Optional<ExecutionRow> findExecutionToWrite(ExecutionKey key) {
    return findExecution(key);
  }

  /** Events with id &gt;= fromEventId, ascending, at most maxEvents. */
  List<EventRow> readEvents(ExecutionKey key, long fromEventId, int maxEvents);

  /**
   * Applies all writes in one transaction.
   *
   * @throws ConcurrentUpdateException a write's expected version did not match; nothing applied
   */
  void commit(List<ExecutionWrite> writes);

  /**
   * Like {@link #commit(List)}, but only while {@code lease} is still held at its version, checked
   * in the same transaction: a server whose lease another server took over cannot write one more
   * change under it.
   *
   * @throws LeaseLostException the lease moved on; nothing applied
   * @throws UnsupportedOperationException the store is not shared by several servers
   */
  void commit(List<ExecutionWrite> writes, Lease lease);

  /**
   * Every run whose last write said {@linkplain ExecutionWrite#pending pending}: its state holds
   * queued tasks or armed timers, which a start puts back into the task queues and the timer queue.
   */
  List<ExecutionRow> loadPending();

  /**
   * Task rows written by servers from before a run's queued tasks were kept in its state; a run's
   * rows are deleted by the write that folds them into its state ({@link ExecutionWrite#deleteLegacyRows}).
   */
  List<TaskRow> loadLegacyTasks();

  /** Timer rows written by servers from before a run's timers were kept in its state; as {@link #loadLegacyTasks}. */
  List<TimerRow> loadLegacyTimers();

  /** Up to {@code limit} closed runs of the namespace that closed before {@code closedBeforeMillis}. */
  List<ExecutionKey> findClosedBefore(String namespace, long closedBeforeMillis, int limit);

  /** One page of executions of a namespace matching a filter, starting at {@code offset}. */
  List<ExecutionRow> listExecutions(String namespace, VisibilityFilter filter, int offset, int limit);

  long countExecutions(String namespace, VisibilityFilter filter);

  @Override
  void close();
}
