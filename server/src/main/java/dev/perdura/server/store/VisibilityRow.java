package dev.perdura.server.store;

/**
 * The searchable columns of an execution, kept in the same row as its state so visibility is
 * consistent with the execution (List/Count see what Describe sees).
 *
 * @param status a {@code WorkflowExecutionStatus} number
 * @param closeTimeMillis 0 while running
 * @param memo serialized {@code Memo} proto, may be empty
 * @param searchAttributes serialized {@code SearchAttributes} proto, may be empty
 */
public record VisibilityRow(
    String workflowType,
    String taskQueue,
    int status,
    long startTimeMillis,
    long closeTimeMillis,
    long executionTimeMillis,
    long historyLength,
    String firstRunId,
    byte[] memo,
    byte[] searchAttributes) {}
