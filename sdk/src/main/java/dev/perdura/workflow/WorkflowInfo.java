package dev.perdura.workflow;

/**
 * What the running workflow knows about itself; see {@link Workflow#info()}.
 *
 * @param attempt the workflow task attempt that runs the code now (1 unless tasks failed)
 */
public record WorkflowInfo(String namespace, String workflowId, String runId, String workflowType, String taskQueue,
    int attempt) {}
