package dev.perdura.server.store;

/**
 * A task waiting in a task queue's durable backlog. Identified by (execution, kind,
 * scheduledEventId); a retry of an activity replaces the row with the new attempt.
 *
 * @param priorityKey 1..5 as given (0 = default)
 * @param fairnessKey empty when none
 * @param fairnessWeight 0 = default (1.0)
 */
public record TaskRow(
    ExecutionKey execution,
    TaskKind kind,
    String taskQueue,
    long scheduledEventId,
    int attempt,
    int priorityKey,
    String fairnessKey,
    float fairnessWeight,
    long createdAtMillis) {}
