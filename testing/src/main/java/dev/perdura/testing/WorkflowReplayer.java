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
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.perdura.converter.PayloadConverter;
import io.temporal.api.history.v1.History;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that workflow code can still replay the history of an existing run: run it in CI against
 * histories of production runs before deploying a change. Histories come from a server, or from JSON
 * files in the format Temporal's tools export (proto3 JSON of {@code temporal.api.history.v1.History}),
 * which {@link #exportHistory} writes.
 *
 * <pre>{@code
 * WorkflowReplayer.replay(client, "order-42", OrderWorkflow.class);   // throws if the change breaks replay
 *
 * WorkflowReplayer.exportHistory(client, "order-42", Path.of("src/test/resources/order-42.json"));
 * WorkflowReplayer.replayFile(Path.of("src/test/resources/order-42.json"), OrderWorkflow.class);
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
    replayEvents(fetch(client, workflowId), workflowClass, client.payloadConverter(), client.namespace(), workflowId);
  }

  /**
   * Replays a history saved as JSON through a new instance of the class, with the default payload
   * converter.
   *
   * @throws ReplayMismatchException the code makes different commands than the history recorded
   * @throws UncheckedIOException the file cannot be read or is not a history
   */
  public static void replayFile(Path historyJson, Class<?> workflowClass) {
    replayFile(historyJson, workflowClass, PayloadConverter.defaultConverter());
  }

  /** Like {@link #replayFile(Path, Class)}, with the converter the workflow's payloads were made with. */
  public static void replayFile(Path historyJson, Class<?> workflowClass, PayloadConverter converter) {
    History.Builder history = History.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(historyJson), history);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the history in " + historyJson + ": " + e.getMessage(), e);
    }
    if (history.getEventsCount() == 0) {
      throw new UncheckedIOException(new IOException(historyJson + " holds no history events"));
    }
    var started = history.getEvents(0).getWorkflowExecutionStartedEventAttributes();
    replayEvents(history.getEventsList(), workflowClass, converter, "default",
        started.getWorkflowId().isEmpty() ? historyJson.getFileName().toString() : started.getWorkflowId());
  }

  /** Writes the current run's history of the workflow id as JSON, for {@link #replayFile}. */
  public static void exportHistory(PerduraClient client, String workflowId, Path target) {
    String json;
    try {
      json = JsonFormat.printer().print(History.newBuilder().addAllEvents(fetch(client, workflowId)).build());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot write the history of " + workflowId + " as JSON", e);
    }
    try {
      Files.writeString(target, json);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  private static List<HistoryEvent> fetch(PerduraClient client, String workflowId) {
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
    return events;
  }

  private static void replayEvents(List<HistoryEvent> events, Class<?> workflowClass, PayloadConverter converter,
      String namespace, String source) {
    WorkflowRegistry registry = new WorkflowRegistry();
    registry.register(workflowClass);
    var started = events.getFirst().getWorkflowExecutionStartedEventAttributes();
    String type = started.getWorkflowType().getName();
    var definition = registry.lookup(type).orElseThrow(() -> new IllegalArgumentException(workflowClass.getName()
        + " defines workflow type " + registry.names() + ", but " + source + " is a " + type));
    WorkflowRun run = new WorkflowRun(definition, converter);
    try {
      run.replayAll(events, new WorkflowInfo(namespace, source, started.getOriginalExecutionRunId(), type,
          started.getTaskQueue().getName(), 1));
    } catch (NonDeterminismException e) {
      throw new ReplayMismatchException("replaying " + source + " with " + workflowClass.getName() + ": "
          + e.getMessage(), e);
    } finally {
      run.close();
    }
  }
}
