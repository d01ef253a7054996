package dev.perdura.testing;

import dev.perdura.client.PerduraClient;
import dev.perdura.internal.grpc.ClientAccess;
import dev.perdura.internal.workflow.NonDeterminismException;
import dev.perdura.internal.workflow.WorkflowRegistry;
import dev.perdura.internal.workflow.WorkflowRun;
import dev.perdura.workflow.WorkflowInfo;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that workflow code can still replay the history of an existing run: run it in CI against
 * histories of production runs before deploying a change.
 *
 * <pre>{@code
 * WorkflowReplayer.replay(client, "order-42", OrderWorkflow.class);   // throws if the change breaks replay
 * }</pre>
 */
public final class WorkflowReplayer {
  private WorkflowReplayer() {}

  /** The code does not match the history it was asked to replay; the message names both. */
  public static final class ReplayMismatchException extends RuntimeException {
    ReplayMismatchException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Replays the current run of the workflow id, as stored on the client's server, through a new
   * instance of the class.
   *
   * @throws ReplayMismatchException the code makes different commands than the history recorded
   */
  public static void replay(PerduraClient client, String workflowId, Class<?> workflowClass) {
    WorkflowRegistry registry = new WorkflowRegistry();
    registry.register(workflowClass);
    List<HistoryEvent> events = new ArrayList<>();
    com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
    do {
      var page = ClientAccess.connection(client).call().getWorkflowExecutionHistory(
          GetWorkflowExecutionHistoryRequest.newBuilder()
              .setNamespace(client.namespace())
              .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
              .setNextPageToken(token)
              .build());
      events.addAll(page.getHistory().getEventsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    if (events.isEmpty()) {
      throw new IllegalArgumentException("workflow " + workflowId + " has no history");
    }
    var started = events.getFirst().getWorkflowExecutionStartedEventAttributes();
    String type = started.getWorkflowType().getName();
    var definition = registry.lookup(type).orElseThrow(() -> new IllegalArgumentException(workflowClass.getName()
        + " defines workflow type " + registry.names() + ", but " + workflowId + " is a " + type));
    WorkflowRun run = new WorkflowRun(definition, client.payloadConverter());
    try {
      run.replayAll(events, new WorkflowInfo(client.namespace(), workflowId, started.getOriginalExecutionRunId(), type,
          started.getTaskQueue().getName(), 1));
    } catch (NonDeterminismException e) {
      throw new ReplayMismatchException("replaying " + workflowId + " with " + workflowClass.getName() + ": "
          + e.getMessage(), e);
    } finally {
      run.close();
    }
  }
}
