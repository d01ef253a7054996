package dev.perdura.server.store;

import java.util.Objects;

/** Identifies one run of a workflow: the unit that history, tasks and timers belong to. */
public record ExecutionKey(String namespace, String workflowId, String runId) {
  public ExecutionKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(workflowId, "workflowId");
    Objects.requireNonNull(runId, "runId");
  }

  @Override
  public String toString() {
    return namespace + "/" + workflowId + "/" + runId;
  }
}
