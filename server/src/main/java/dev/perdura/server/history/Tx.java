package dev.perdura.server.history;

import dev.perdura.server.common.Errors;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One change being computed on a history shard: the runs it has loaded (working copies), the
 * current-run pointers it moved, and what must happen once it is durable (dispatch tasks, arm
 * timers, wake waiters). Everything in it is discarded if the change throws.
 */
final class Tx {
  private final HistoryShard shard;
  final long now;
  private final Map<ExecutionKey, Execution> working = new LinkedHashMap<>();
  private final Map<String, String> currentRuns = new LinkedHashMap<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private final List<Runnable> ifNotWritten = new ArrayList<>();
  private boolean mayHoldBack;

  Tx(HistoryShard shard, long now) {
    this.shard = shard;
    this.now = now;
  }

  /** The run, or empty when it does not exist. */
  Optional<Execution> find(ExecutionKey key) {
    Execution loaded = working.get(key);
    if (loaded != null) {
      return Optional.of(loaded);
    }
    Optional<HistoryShard.HeldBack> held = shard.heldBack(key);
    if (held.isPresent()) {
      HistoryShard.HeldBack h = held.get();
      Execution execution = new Execution(key, StateCodec.decode(h.row().state()), h.row().version(), now,
          h.storedPending(), h.events());
      execution.readVisibility = h.storedVisibility();
      working.put(key, execution);
      return Optional.of(execution);
    }
    Optional<ExecutionRow> row = shard.readRow(key);
    if (row.isEmpty()) {
      return Optional.empty();
    }
    ExecutionState state = StateCodec.decode(row.get().state());
    boolean folded = !state.holdsTasksAndTimers;
    if (folded) {
      HistoryShard.LegacyRows legacy = shard.legacyRows(key);
      state.queuedTasks.addAll(legacy.tasks());
      legacy.timers().forEach(t -> state.armedTimers.put(t.timerKey(), t.fireAtMillis()));
      state.holdsTasksAndTimers = true;
    }
    Execution execution = new Execution(key, state, row.get().version(), now);
    execution.readVisibility = row.get().visibility();
    execution.deleteLegacyRows = folded;
    working.put(key, execution);
    return Optional.of(execution);
  }

  /** The run named by (namespace, workflow id, run id), the current run when runId is empty. */
  Execution require(String namespace, String workflowId, String runId) {
    String resolved = runId;
    if (resolved == null || resolved.isEmpty()) {
      resolved =
          currentRunId(namespace, workflowId)
              .orElseThrow(
                  () ->
                      Errors.notFound(
                          "workflow execution not found: namespace="
                              + namespace
                              + " workflowId="
                              + workflowId));
    }
    ExecutionKey key = new ExecutionKey(namespace, workflowId, resolved);
    String shown = resolved;
    return find(key)
        .orElseThrow(
            () ->
                Errors.notFound(
                    "workflow execution not found: namespace="
                        + namespace
                        + " workflowId="
                        + workflowId
                        + " runId="
                        + shown));
  }

  Optional<String> currentRunId(String namespace, String workflowId) {
    String moved = currentRuns.get(HistoryShard.currentKey(namespace, workflowId));
    if (moved != null) {
      return Optional.of(moved);
    }
    return shard.readCurrentRunId(namespace, workflowId);
  }

  /** Adds a new run and makes it the workflow id's current run. */
  Execution create(ExecutionState state) {
    ExecutionKey key = new ExecutionKey(state.namespace, state.workflowId, state.runId);
    Execution execution = new Execution(key, state, 0, now);
    execution.makeCurrent = true;
    execution.markChanged();
    working.put(key, execution);
    currentRuns.put(HistoryShard.currentKey(state.namespace, state.workflowId), state.runId);
    return execution;
  }

  /** Forgets every working copy and pointer move of this change, as if it had not started. */
  void discard() {
    working.clear();
    currentRuns.clear();
    afterCommit.clear();
    ifNotWritten.clear();
  }

  /**
   * Lets the shard keep this change in memory instead of writing it, the run's next write carrying
   * it (see {@link HistoryShard}, "Writes held back"): only for a change whose loss in a crash is
   * harmless, because what it recorded is done again.
   */
  void mayHoldBack() {
    mayHoldBack = true;
  }

  boolean holdBackAllowed() {
    return mayHoldBack;
  }

  void afterCommit(Runnable effect) {
    afterCommit.add(effect);
  }

  /** Runs when this change is not written after all (its batch's commit failed). */
  void ifNotWritten(Runnable undo) {
    ifNotWritten.add(undo);
  }

  List<Runnable> undos() {
    return ifNotWritten;
  }

  Map<ExecutionKey, Execution> working() {
    return working;
  }

  Map<String, String> currentRuns() {
    return currentRuns;
  }

  List<Runnable> effects() {
    return afterCommit;
  }
}
