package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.util.Optional;

/**
 * The other servers of a cluster, as the history service reaches them: the server that owns a
 * task queue, or the one that owns a run's shard. Each call names what the other side needs to
 * find its inputs in the store (the source run's committed state), so what travels is small.
 * Calls fail with gRPC's {@code UNAVAILABLE} when the owner is unknown or moving.
 */
public interface Peers {
  /** For a server alone on its store: it owns every shard, so nothing is ever remote. */
  Peers NONE = new Peers() {
    private IllegalStateException alone() {
      return new IllegalStateException("a server alone on its store owns every shard");
    }

    @Override
    public void addTask(TaskRow task) {
      throw alone();
    }

    @Override
    public Optional<PollWorkflowTaskQueueResponse> startWorkflowTask(TaskRow task, String identity, String requestId) {
      throw alone();
    }

    @Override
    public Optional<PollActivityTaskQueueResponse> startActivityTask(TaskRow task, String identity, String requestId) {
      throw alone();
    }

    @Override
    public Optional<String> startChild(ExecutionKey parent, long initiatedId, String namespace, String workflowId) {
      throw alone();
    }

    @Override
    public Optional<String> deliverExternal(ExecutionKey source, long initiatedId, String namespace,
        String workflowId) {
      throw alone();
    }

    @Override
    public void notifyParent(ExecutionKey child, String parentNamespace, String parentWorkflowId) {
      throw alone();
    }

    @Override
    public void applyPolicyToChild(ExecutionKey parent, String namespace, String workflowId, String firstRunId,
        ParentClosePolicy policy) {
      throw alone();
    }

    @Override
    public void fireTimer(TimerRow timer) {
      throw alone();
    }
  };

  /**
   * Hands a task to the server that owns its queue. Asynchronous and retried until that server
   * has it or the queue changes hands (the new owner loads the task's row from the store).
   */
  void addTask(TaskRow task);

  /** Starts a queued workflow task on the server that owns its run; empty when it went stale. */
  Optional<PollWorkflowTaskQueueResponse> startWorkflowTask(TaskRow task, String identity, String requestId);

  /** Starts a queued activity task on the server that owns its run; empty when it went stale. */
  Optional<PollActivityTaskQueueResponse> startActivityTask(TaskRow task, String identity, String requestId);

  /**
   * Starts the child that {@code parent} initiated with event {@code initiatedId}, on the server
   * that owns the child's id; the child's run id, or empty when its id is in use.
   */
  Optional<String> startChild(ExecutionKey parent, long initiatedId, String namespace, String workflowId);

  /**
   * Delivers the signal or cancel request {@code source} initiated with event {@code initiatedId}
   * to the workflow that the server owning it runs; the run that got it, or empty.
   */
  Optional<String> deliverExternal(ExecutionKey source, long initiatedId, String namespace, String workflowId);

  /** Records on the parent, at the server that owns it, that the child {@code child} closed. */
  void notifyParent(ExecutionKey child, String parentNamespace, String parentWorkflowId);

  /** Terminates or cancels a child chain, by its parent's close policy, at the server that owns it. */
  void applyPolicyToChild(ExecutionKey parent, String namespace, String workflowId, String firstRunId,
      ParentClosePolicy policy);

  /** Fires one durable timer of a run now, at the server that owns the run. */
  void fireTimer(TimerRow timer);
}
