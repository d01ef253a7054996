package dev.perdura.client;

import dev.perdura.common.Payload;
import dev.perdura.failure.WorkflowFailedException;
import dev.perdura.failure.WorkflowFailedException.CloseStatus;
import dev.perdura.internal.Protos;
import dev.perdura.internal.grpc.Calls;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.HistoryEventFilterType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.RequestCancelWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.TerminateWorkflowExecutionRequest;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * A workflow run (or, with an empty run id, whatever run is current for the workflow id): wait for
 * its result, signal, cancel, terminate or describe it. Cheap to create; thread-safe.
 */
public final class WorkflowHandle {
  private final PerduraClient client;
  private final String workflowId;
  private final String runId;

  WorkflowHandle(PerduraClient client, String workflowId, String runId) {
    this.client = client;
    this.workflowId = workflowId;
    this.runId = runId;
  }

  public String workflowId() {
    return workflowId;
  }

  /** The run this handle names; empty for "the current run". */
  public String runId() {
    return runId;
  }

  private WorkflowExecution execution(String run) {
    return WorkflowExecution.newBuilder().setWorkflowId(workflowId).setRunId(run).build();
  }

  /**
   * Waits for the run to close and returns its result, following continue-as-new to the last run.
   *
   * @throws WorkflowFailedException the run failed, was cancelled or terminated, or timed out
   */
  public <R> R result(Class<R> type) {
    return type.cast(awaitResult(type, Long.MAX_VALUE));
  }

  /** The same, for a generic result type ({@code List<Order>}). */
  public Object result(Type type) {
    return awaitResult(type, Long.MAX_VALUE);
  }

  /**
   * Waits at most {@code timeout} for the result.
   *
   * @throws TimeoutException the run was still open when the time was up
   */
  public <R> R result(Class<R> type, Duration timeout) throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Object result = awaitResult(type, deadline);
    if (result == TIMED_OUT) {
      throw new TimeoutException("workflow " + workflowId + " still running after " + timeout);
    }
    return type.cast(result);
  }

  private static final Object TIMED_OUT = new Object();

  private Object awaitResult(Type type, long deadlineNanos) {
    String run = runId;
    com.google.protobuf.ByteString pageToken = com.google.protobuf.ByteString.EMPTY;
    while (true) {
      long remainingMillis = deadlineNanos == Long.MAX_VALUE
          ? Long.MAX_VALUE : (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (remainingMillis <= 0) {
        return TIMED_OUT;
      }
      GetWorkflowExecutionHistoryRequest request = GetWorkflowExecutionHistoryRequest.newBuilder()
          .setNamespace(client.namespace())
          .setExecution(execution(run))
          .setWaitNewEvent(true)
          .setHistoryEventFilterType(HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
          .setNextPageToken(pageToken)
          .build();
      GetWorkflowExecutionHistoryResponse response;
      try {
        var stub = client.connection().longPoll();
        if (remainingMillis < Long.MAX_VALUE) {
          stub = stub.withDeadlineAfter(Math.min(remainingMillis, 75_000), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        response = stub.getWorkflowExecutionHistory(request);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
          continue; // the long poll ended without news; ask again until our own deadline
        }
        throw Calls.translate(e);
      }
      List<HistoryEvent> events = response.getHistory().getEventsList();
      if (events.isEmpty()) {
        pageToken = response.getNextPageToken();
        continue;
      }
      HistoryEvent close = events.getLast();
      String closedRun = run;
      switch (close.getEventType()) {
        case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> {
          var payloads = close.getWorkflowExecutionCompletedEventAttributes().getResult();
          if (payloads.getPayloadsCount() == 0) {
            return null;
          }
          Payload payload = Protos.fromProto(payloads.getPayloads(0));
          return client.payloadConverter().fromPayload(payload, type);
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW -> {
          run = close.getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId();
          pageToken = com.google.protobuf.ByteString.EMPTY;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> {
          var failed = close.getWorkflowExecutionFailedEventAttributes();
          if (failed.getNewExecutionRunId().isEmpty()) {
            throw new WorkflowFailedException(workflowId, closedRun, CloseStatus.FAILED, failed.getFailure().getMessage());
          }
          // The run's retry policy started another attempt: its outcome is the workflow's.
          run = failed.getNewExecutionRunId();
          pageToken = com.google.protobuf.ByteString.EMPTY;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED ->
            throw new WorkflowFailedException(workflowId, closedRun, CloseStatus.CANCELED, "");
        case EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED -> throw new WorkflowFailedException(workflowId, closedRun,
            CloseStatus.TERMINATED, close.getWorkflowExecutionTerminatedEventAttributes().getReason());
        case EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT -> {
          String retry = close.getWorkflowExecutionTimedOutEventAttributes().getNewExecutionRunId();
          if (retry.isEmpty()) {
            throw new WorkflowFailedException(workflowId, closedRun, CloseStatus.TIMED_OUT, "");
          }
          run = retry;
          pageToken = com.google.protobuf.ByteString.EMPTY;
        }
        default -> throw new IllegalStateException("unexpected close event " + close.getEventType()
            + " of workflow " + workflowId);
      }
    }
  }

  /** Sends a signal with arguments encoded by the payload converter. */
  public void signal(String signalName, Object... args) {
    Calls.call(() -> client.connection().call().signalWorkflowExecution(SignalWorkflowExecutionRequest.newBuilder()
        .setNamespace(client.namespace())
        .setWorkflowExecution(execution(runId))
        .setSignalName(signalName)
        .setInput(Protos.encode(client.payloadConverter(), Arrays.asList(args)))
        .setIdentity(client.options().identity())
        .setRequestId(UUID.randomUUID().toString())
        .build()));
  }

  /**
   * Asks the workflow for a value through one of its query handlers. The answer reflects its state
   * after its last completed workflow task.
   *
   * @throws ServiceException the workflow has no such handler or the handler failed
   *     ({@code INVALID_ARGUMENT}), or no worker answered in time
   */
  public <R> R query(String queryType, Class<R> resultType, Object... args) {
    var response = Calls.call(() -> client.connection().call().queryWorkflow(
        io.temporal.api.workflowservice.v1.QueryWorkflowRequest.newBuilder()
            .setNamespace(client.namespace())
            .setExecution(execution(runId))
            .setQuery(io.temporal.api.query.v1.WorkflowQuery.newBuilder()
                .setQueryType(queryType)
                .setQueryArgs(Protos.encode(client.payloadConverter(), Arrays.asList(args))))
            .build()));
    if (response.hasQueryRejected()) {
      throw new ServiceException("FAILED_PRECONDITION", "query rejected: the workflow is "
          + response.getQueryRejected().getStatus(), null);
    }
    var payloads = response.getQueryResult();
    return payloads.getPayloadsCount() == 0 ? null
        : client.payloadConverter().fromPayload(Protos.fromProto(payloads.getPayloads(0)), resultType);
  }

  /** Asks the workflow to cancel itself; it decides how (the request is an event in its history). */
  public void cancel() {
    Calls.call(() -> client.connection().call().requestCancelWorkflowExecution(
        RequestCancelWorkflowExecutionRequest.newBuilder()
            .setNamespace(client.namespace())
            .setWorkflowExecution(execution(runId))
            .setIdentity(client.options().identity())
            .setRequestId(UUID.randomUUID().toString())
            .build()));
  }

  /** Ends the run at once, without running any more workflow code. */
  public void terminate(String reason) {
    Calls.call(() -> client.connection().call().terminateWorkflowExecution(
        TerminateWorkflowExecutionRequest.newBuilder()
            .setNamespace(client.namespace())
            .setWorkflowExecution(execution(runId))
            .setReason(reason == null ? "" : reason)
            .setIdentity(client.options().identity())
            .build()));
  }

  public WorkflowDescription describe() {
    var response = Calls.call(() -> client.connection().call().describeWorkflowExecution(
        DescribeWorkflowExecutionRequest.newBuilder()
            .setNamespace(client.namespace())
            .setExecution(execution(runId))
            .build()));
    var info = response.getWorkflowExecutionInfo();
    return new WorkflowDescription(
        info.getExecution().getWorkflowId(),
        info.getExecution().getRunId(),
        info.getType().getName(),
        info.getTaskQueue(),
        WorkflowDescription.WorkflowStatus.valueOf(info.getStatus().name().substring("WORKFLOW_EXECUTION_STATUS_".length())),
        Protos.instant(info.getStartTime()),
        info.hasCloseTime() && info.getCloseTime().getSeconds() > 0
            ? Optional.of(Protos.instant(info.getCloseTime())) : Optional.empty(),
        info.getHistoryLength(),
        response.getPendingActivitiesCount());
  }

  @Override
  public String toString() {
    return "WorkflowHandle[" + workflowId + (runId.isEmpty() ? "" : ", run " + runId) + "]";
  }
}
