package dev.perdura.server.history;

import dev.perdura.server.common.Errors;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starting workflows: request-id dedupe, id reuse and id conflict policies, signal-with-start. */
public final class WorkflowStarts {
  private static final Logger log = LoggerFactory.getLogger(WorkflowStarts.class);

  private WorkflowStarts() {}

  /**
   * The id policies in effect, already defaulted and checked for contradictions by the frontend.
   */
  public record Policies(WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict) {
    /**
     * Applies the defaults and rejects contradictions: the deprecated TERMINATE_IF_RUNNING reuse
     * policy means ALLOW_DUPLICATE plus TERMINATE_EXISTING and cannot be combined with an explicit
     * conflict policy; REJECT_DUPLICATE cannot be combined with TERMINATE_EXISTING.
     */
    @SuppressWarnings("deprecation") // TERMINATE_IF_RUNNING is deprecated but still sent by older clients
    public static Policies resolve(
        WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict, WorkflowIdConflictPolicy defaultConflict) {
      boolean conflictGiven = conflict != WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED;
      if (reuse == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING) {
        if (conflictGiven) {
          throw Errors.invalidArgument(
              "workflow_id_reuse_policy TERMINATE_IF_RUNNING cannot be combined with a workflow_id_conflict_policy");
        }
        return new Policies(
            WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
      }
      WorkflowIdReusePolicy effectiveReuse =
          reuse == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED
              ? WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
              : reuse;
      if (effectiveReuse == WorkflowIdReusePolicy.UNRECOGNIZED) {
        throw Errors.invalidArgument("workflow_id_reuse_policy is not a known value");
      }
      WorkflowIdConflictPolicy effectiveConflict = conflictGiven ? conflict : defaultConflict;
      if (effectiveConflict == WorkflowIdConflictPolicy.UNRECOGNIZED) {
        throw Errors.invalidArgument("workflow_id_conflict_policy is not a known value");
      }
      if (effectiveReuse == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
          && effectiveConflict == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
        throw Errors.invalidArgument(
            "workflow_id_reuse_policy REJECT_DUPLICATE cannot be combined with workflow_id_conflict_policy TERMINATE_EXISTING");
      }
      return new Policies(effectiveReuse, effectiveConflict);
    }
  }

  /** The outcome for an existing run: reuse it, or go on and start a new one. */
  private sealed interface Existing {
    record Use(Execution execution, boolean startedByThisRequest) implements Existing {}

    record StartNew() implements Existing {}
  }

  private static Existing checkExisting(Tx tx, NewRun run, Policies policies) {
    Optional<String> current = tx.currentRunId(run.namespace(), run.workflowId());
    if (current.isEmpty()) {
      return new Existing.StartNew();
    }
    Execution existing = tx.require(run.namespace(), run.workflowId(), current.get());
    ExecutionState s = existing.state;
    if (!run.requestId().isEmpty() && run.requestId().equals(s.startRequestId)) {
      return new Existing.Use(existing, true);
    }
    if (s.isRunning()) {
      switch (policies.conflict()) {
        case WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING -> {
          return new Existing.Use(existing, false);
        }
        case WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING -> {
          Runs.terminate(existing, "terminated by a new start of the same workflow id", null, "history-service");
          return new Existing.StartNew();
        }
        default -> throw Errors.alreadyStarted(run.workflowId(), s.runId, s.startRequestId);
      }
    }
    switch (policies.reuse()) {
      case WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE ->
          throw Errors.alreadyExists(
              "Workflow execution already finished and the reuse policy rejects duplicates.",
              run.workflowId(), s.runId, s.startRequestId);
      case WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY -> {
        if (s.status == Statuses.COMPLETED || s.status == Statuses.CONTINUED_AS_NEW) {
          throw Errors.alreadyExists(
              "Workflow execution already finished successfully and the reuse policy allows only failed ones.",
              run.workflowId(), s.runId, s.startRequestId);
        }
        return new Existing.StartNew();
      }
      default -> {
        return new Existing.StartNew();
      }
    }
  }

  /** What a start did: the answer, and the first workflow task when it was started eagerly. */
  record Outcome(StartWorkflowExecutionResponse response, Optional<WorkflowTasks.Started> eagerTask) {}

  /**
   * Starts a run, or answers with an existing one. With {@code eagerIdentity}, the first workflow
   * task of a new run is started at once for that worker instead of being queued.
   */
  static Outcome start(Tx tx, NewRun run, Policies policies, String eagerIdentity) {
    Existing existing = checkExisting(tx, run, policies);
    if (existing instanceof Existing.Use use) {
      return new Outcome(StartWorkflowExecutionResponse.newBuilder()
          .setRunId(use.execution().state.runId)
          .setStarted(use.startedByThisRequest())
          .setStatus(WorkflowExecutionStatus.forNumber(use.execution().state.status))
          .build(), Optional.empty());
    }
    Execution e = Runs.startRun(tx, run);
    Runs.scheduleFirstWorkflowTask(e);
    Optional<WorkflowTasks.Started> eager = eagerIdentity == null ? Optional.empty()
        : WorkflowTasks.startEagerly(e, eagerIdentity, e.state.startRequestId);
    log.debug("started workflow {} run {} in {}{}", run.workflowId(), e.state.runId, run.namespace(),
        eager.isPresent() ? " (first task started eagerly)" : "");
    return new Outcome(StartWorkflowExecutionResponse.newBuilder()
        .setRunId(e.state.runId)
        .setStarted(true)
        .setStatus(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING)
        .build(), eager);
  }

  static SignalWithStartWorkflowExecutionResponse signalWithStart(
      Tx tx, NewRun run, Policies policies, SignalWorkflowExecutionRequest signal) {
    Optional<String> current = tx.currentRunId(run.namespace(), run.workflowId());
    if (current.isPresent()) {
      Execution existing = tx.require(run.namespace(), run.workflowId(), current.get());
      if (existing.state.isRunning()
          && policies.conflict() != WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
        appendSignal(existing, signal);
        return SignalWithStartWorkflowExecutionResponse.newBuilder()
            .setRunId(existing.state.runId)
            .setStarted(false)
            .build();
      }
    }
    Existing existing = checkExisting(tx, run, policies);
    if (existing instanceof Existing.Use use) {
      appendSignal(use.execution(), signal);
      return SignalWithStartWorkflowExecutionResponse.newBuilder()
          .setRunId(use.execution().state.runId)
          .setStarted(false)
          .build();
    }
    Execution e = Runs.startRun(tx, run);
    e.append(HistoryService.signaled(signal));
    e.state.rememberRequestId(signal.getRequestId());
    // Signal-with-start cuts a start delay short.
    e.state.executionTime = e.now;
    Runs.scheduleWorkflowTask(e);
    return SignalWithStartWorkflowExecutionResponse.newBuilder()
        .setRunId(e.state.runId)
        .setStarted(true)
        .build();
  }

  /** Appends a signal (deduplicated by request id) and schedules a workflow task for it. */
  static void appendSignal(Execution e, SignalWorkflowExecutionRequest signal) {
    ExecutionState s = e.state;
    if (!signal.getRequestId().isEmpty() && s.recentRequestIds.contains(signal.getRequestId())) {
      return;
    }
    s.rememberRequestId(signal.getRequestId());
    e.appendOrBuffer(HistoryService.signaled(signal));
    Runs.scheduleWorkflowTask(e);
  }
}
