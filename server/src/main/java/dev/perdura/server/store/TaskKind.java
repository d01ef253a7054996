package dev.perdura.server.store;

/** Which kind of task queue a task belongs to. */
public enum TaskKind {
  WORKFLOW,
  ACTIVITY
}
