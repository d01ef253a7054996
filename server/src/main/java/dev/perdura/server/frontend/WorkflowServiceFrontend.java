package dev.perdura.server.frontend;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.perdura.server.common.BlockingCalls;
import dev.perdura.server.common.Errors;
import dev.perdura.server.common.HistoryBytes;
import dev.perdura.server.common.HistoryPageToken;
import dev.perdura.server.common.LoopHandoff;
import dev.perdura.server.common.TaskToken;
import dev.perdura.server.history.Describe;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.HistoryService.ActivityRef;
import dev.perdura.server.history.NewRuns;
import dev.perdura.server.history.WorkflowStarts;
import dev.perdura.server.matching.Dispatch;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.matching.PollReservation;
import dev.perdura.server.matching.TaskQueueDispatcher;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.NamespaceRecord;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.VisibilityFilter;
import dev.perdura.server.visibility.InvalidListFilterException;
import dev.perdura.server.visibility.ListFilterParser;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.stub.StreamObserver;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.HistoryEventFilterType;
import io.temporal.api.enums.v1.NamespaceState;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.namespace.v1.NamespaceConfig;
import io.temporal.api.namespace.v1.NamespaceInfo;
import io.temporal.api.query.v1.WorkflowQueryResult;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.enums.v1.QueryResultType;
import io.temporal.api.enums.v1.QueryRejectCondition;
import io.temporal.api.query.v1.QueryRejected;
import io.temporal.api.workflowservice.v1.*;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Temporal WorkflowService over gRPC: validates each request (nothing changes on bad input),
 * then hands it to history or matching. Calls that may block (store reads) run on virtual threads;
 * calls that wait only for a change, a task or a run's close wait as callbacks and are answered by
 * the thread that finishes what they wait for (see {@link #onShard}, {@code PollWithoutThread},
 * {@link #awaitCloseWithoutThread}).
 */
public final class WorkflowServiceFrontend extends WorkflowServiceGrpc.WorkflowServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(WorkflowServiceFrontend.class);
  static final long MAX_POLL_WAIT_MILLIS = 60_000;
  static final long HISTORY_POLL_WAIT_MILLIS = 20_000;
  static final String SERVER_VERSION = "1.0.0-perdura";

  private final Namespaces namespaces;
  private final HistoryService history;
  private final Matching matching;
  private final Pollers pollers = new Pollers(java.time.Clock.systemUTC());
  private final Executor calls;
  /** Ends long polls and result waits that wait without a thread at their deadlines; one platform thread. */
  private final ScheduledThreadPoolExecutor pollDeadlines;
  private final Store store;

  /**
   * @param calls runs each call's handler (they block: on the store, on their change's commit, on
   *     a long poll); gRPC's callbacks themselves run on the network threads
   */
  public WorkflowServiceFrontend(Namespaces namespaces, HistoryService history, Matching matching, Store store,
      Executor calls) {
    this.calls = calls;
    this.pollDeadlines = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("poll-deadlines").daemon().factory());
    // A poll answered before its deadline takes its deadline out of the queue at once.
    pollDeadlines.setRemoveOnCancelPolicy(true);
    this.namespaces = namespaces;
    this.history = history;
    this.matching = matching;
    this.store = store;
  }

  /**
   * Stops the thread that ends waiting polls at their deadlines; close matching first, which ends
   * the polls still waiting.
   */
  public void close() {
    pollDeadlines.shutdownNow();
  }

  private <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
    BlockingCalls.offload(calls, "WorkflowService call", observer, () -> answer(observer, call));
  }

  /** What a call that ends in one change of a run does once its request is checked (see {@link #onShard}). */
  private record ShardCall<T>(String namespace, String workflowId, Supplier<CompletableFuture<T>> change) {}

  /**
   * A call whose one wait is a change of a run on its history shard. {@code check} validates the
   * request and names the change; it must not read the store, so it runs on the network thread only
   * when the request's namespace is cached. The network thread that parsed the request then queues
   * the change and goes on, and the thread that wrote the change's batch builds and sends the answer
   * once it is durable: a call costs no thread of its own, and nothing waits. (Answering on the
   * call's network thread instead was slower with the official SDK, whose one connection puts every
   * call on one network thread.)
   */
  private <T> void onShard(StreamObserver<T> observer, String namespace, Supplier<ShardCall<T>> check) {
    if (!namespaces.isCached(namespace)) {
      unary(observer, () -> waitFor(check.get()));
      return;
    }
    ShardCall<T> call;
    CompletableFuture<T> answer;
    try {
      call = check.get();
      answer = call.change().get();
    } catch (RuntimeException e) {
      answerFailure(observer, e);
      return;
    }
    EventExecutor loop = LoopHandoff.currentLoop();
    answer.whenComplete((response, failure) -> LoopHandoff.run(loop, () -> {
      try {
        if (failure != null) {
          StatusRuntimeException status = HistoryService.failure(failure);
          if (status.getStatus().getCode() == Status.Code.INTERNAL) {
            log.error("change failed unexpectedly: namespace={} workflowId={}", call.namespace(), call.workflowId(),
                failure);
          }
          observer.onError(status);
        } else {
          observer.onNext(response);
          observer.onCompleted();
        }
      } catch (RuntimeException e) {
        // The change is durable (or failed) either way; only its answer could not be sent.
        log.warn("could not answer a call: namespace={} workflowId={}", call.namespace(), call.workflowId(), e);
      }
    }));
  }

  private static <T> T waitFor(ShardCall<T> call) {
    return HistoryService.await(call.change().get());
  }

  private static <T> void answer(StreamObserver<T> observer, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      answerFailure(observer, e);
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  /** A status thrown is the answer; anything else is a bug, logged and answered INTERNAL. */
  private static void answerFailure(StreamObserver<?> observer, RuntimeException e) {
    if (e instanceof StatusRuntimeException status) {
      observer.onError(status);
      return;
    }
    log.error("request failed unexpectedly", e);
    observer.onError(Errors.internal("internal error: " + e, e));
  }

  // ---- cluster and namespaces ---------------------------------------------------------------

  @Override
  public void getSystemInfo(GetSystemInfoRequest request, StreamObserver<GetSystemInfoResponse> observer) {
    unary(observer, () -> GetSystemInfoResponse.newBuilder()
        .setServerVersion(SERVER_VERSION)
        .setCapabilities(GetSystemInfoResponse.Capabilities.newBuilder()
            .setSignalAndQueryHeader(true)
            .setInternalErrorDifferentiation(true)
            .setActivityFailureIncludeHeartbeat(true)
            .setEncodedFailureAttributes(true)
            .setUpsertMemo(true)
            .setEagerWorkflowStart(true)
            .setSdkMetadata(true))
        .build());
  }

  @Override
  public void getClusterInfo(GetClusterInfoRequest request, StreamObserver<GetClusterInfoResponse> observer) {
    unary(observer, () -> GetClusterInfoResponse.newBuilder()
        .setServerVersion(SERVER_VERSION)
        .setClusterName("perdura")
        .setClusterId(UUID.nameUUIDFromBytes("perdura".getBytes()).toString())
        .setHistoryShardCount(history.shardCount())
        .setPersistenceStore("sql")
        .build());
  }

  @Override
  public void registerNamespace(RegisterNamespaceRequest request, StreamObserver<RegisterNamespaceResponse> observer) {
    unary(observer, () -> {
      Validation.requireId("namespace", request.getNamespace());
      long retention = Validation.duration("workflow_execution_retention_period",
          request.hasWorkflowExecutionRetentionPeriod(), request.getWorkflowExecutionRetentionPeriod()) / 1000;
      namespaces.register(request.getNamespace(), request.getDescription(), request.getOwnerEmail(),
          retention == 0 ? Namespaces.DEFAULT_RETENTION_SECONDS : retention, request.getDataMap());
      log.info("registered namespace {}", request.getNamespace());
      return RegisterNamespaceResponse.getDefaultInstance();
    });
  }

  private static DescribeNamespaceResponse describe(NamespaceRecord ns) {
    return DescribeNamespaceResponse.newBuilder()
        .setNamespaceInfo(NamespaceInfo.newBuilder()
            .setName(ns.name())
            .setId(ns.id())
            .setState(NamespaceState.NAMESPACE_STATE_REGISTERED)
            .setDescription(ns.description())
            .setOwnerEmail(ns.ownerEmail())
            .putAllData(ns.data())
            .setCapabilities(NamespaceInfo.Capabilities.newBuilder().setEagerWorkflowStart(true)))
        .setConfig(NamespaceConfig.newBuilder()
            .setWorkflowExecutionRetentionTtl(com.google.protobuf.util.Durations.fromSeconds(ns.retentionSeconds())))
        .setIsGlobalNamespace(false)
        .build();
  }

  @Override
  public void describeNamespace(DescribeNamespaceRequest request, StreamObserver<DescribeNamespaceResponse> observer) {
    unary(observer, () -> {
      if (request.getNamespace().isEmpty() && !request.getId().isEmpty()) {
        return namespaces.list().stream().filter(n -> n.id().equals(request.getId())).findFirst()
            .map(WorkflowServiceFrontend::describe)
            .orElseThrow(() -> Errors.namespaceNotFound(request.getId()));
      }
      return describe(namespaces.require(request.getNamespace()));
    });
  }

  @Override
  public void listNamespaces(ListNamespacesRequest request, StreamObserver<ListNamespacesResponse> observer) {
    unary(observer, () -> {
      ListNamespacesResponse.Builder response = ListNamespacesResponse.newBuilder();
      namespaces.list().forEach(ns -> response.addNamespaces(describe(ns)));
      return response.build();
    });
  }

  // ---- starting and controlling workflows -----------------------------------------------------

  /**
   * The timeouts of a new run; the run is built from the request afterwards, where an invalid
   * duration would no longer be a client error.
   */
  private static void workflowTimeouts(boolean hasExecution, Duration execution,
      boolean hasRun, Duration run, boolean hasTask, Duration task,
      boolean hasDelay, Duration delay) {
    Validation.duration("workflow_execution_timeout", hasExecution, execution);
    Validation.duration("workflow_run_timeout", hasRun, run);
    Validation.duration("workflow_task_timeout", hasTask, task);
    Validation.duration("workflow_start_delay", hasDelay, delay);
  }

  @Override
  public void startWorkflowExecution(StartWorkflowExecutionRequest r, StreamObserver<StartWorkflowExecutionResponse> observer) {
    onShard(observer, r.getNamespace(), () -> {
      namespaces.require(r.getNamespace());
      Validation.requireId("workflow_id", r.getWorkflowId());
      Validation.requireId("workflow_type.name", r.getWorkflowType().getName());
      Validation.requireTaskQueue("task_queue", r.hasTaskQueue(), r.getTaskQueue());
      Validation.optionalId("request_id", r.getRequestId());
      workflowTimeouts(r.hasWorkflowExecutionTimeout(), r.getWorkflowExecutionTimeout(),
          r.hasWorkflowRunTimeout(), r.getWorkflowRunTimeout(), r.hasWorkflowTaskTimeout(), r.getWorkflowTaskTimeout(),
          r.hasWorkflowStartDelay(), r.getWorkflowStartDelay());
      Validation.retryPolicy("retry_policy", r.hasRetryPolicy(), r.getRetryPolicy());
      Validation.priority("priority", r.hasPriority(), r.getPriority());
      if (!r.getCronSchedule().isEmpty()) {
        throw Errors.invalidArgument("cron_schedule is not supported by this server yet");
      }
      var policies = WorkflowStarts.Policies.resolve(r.getWorkflowIdReusePolicy(), r.getWorkflowIdConflictPolicy(),
          WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL);
      var run = NewRuns.fromStart(r);
      return new ShardCall<>(run.namespace(), run.workflowId(),
          () -> history.startWorkflow(run, policies, r.getRequestEagerExecution() ? r.getIdentity() : null));
    });
  }

  @Override
  public void signalWithStartWorkflowExecution(SignalWithStartWorkflowExecutionRequest r,
      StreamObserver<SignalWithStartWorkflowExecutionResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      Validation.requireId("workflow_id", r.getWorkflowId());
      Validation.requireId("workflow_type.name", r.getWorkflowType().getName());
      Validation.requireTaskQueue("task_queue", r.hasTaskQueue(), r.getTaskQueue());
      Validation.requireId("signal_name", r.getSignalName());
      Validation.optionalId("request_id", r.getRequestId());
      workflowTimeouts(r.hasWorkflowExecutionTimeout(), r.getWorkflowExecutionTimeout(),
          r.hasWorkflowRunTimeout(), r.getWorkflowRunTimeout(), r.hasWorkflowTaskTimeout(), r.getWorkflowTaskTimeout(),
          r.hasWorkflowStartDelay(), r.getWorkflowStartDelay());
      Validation.retryPolicy("retry_policy", r.hasRetryPolicy(), r.getRetryPolicy());
      Validation.priority("priority", r.hasPriority(), r.getPriority());
      if (!r.getCronSchedule().isEmpty()) {
        throw Errors.invalidArgument("cron_schedule is not supported by this server yet");
      }
      if (r.getWorkflowIdConflictPolicy() == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL) {
        throw Errors.invalidArgument("workflow_id_conflict_policy FAIL is not allowed for signal-with-start");
      }
      var policies = WorkflowStarts.Policies.resolve(r.getWorkflowIdReusePolicy(), r.getWorkflowIdConflictPolicy(),
          WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
      SignalWorkflowExecutionRequest.Builder signal = SignalWorkflowExecutionRequest.newBuilder()
          .setNamespace(r.getNamespace())
          .setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(r.getWorkflowId()))
          .setSignalName(r.getSignalName())
          .setIdentity(r.getIdentity())
          .setRequestId(r.getRequestId());
      if (r.hasSignalInput()) {
        signal.setInput(r.getSignalInput());
      }
      if (r.hasHeader()) {
        signal.setHeader(r.getHeader());
      }
      return history.signalWithStart(NewRuns.fromSignalWithStart(r), policies, signal.build());
    });
  }

  private void requireExecution(String field, boolean present, WorkflowExecution execution) {
    if (!present) {
      throw Errors.invalidArgument(field + " is not set");
    }
    Validation.requireId(field + ".workflow_id", execution.getWorkflowId());
    Validation.optionalId(field + ".run_id", execution.getRunId());
  }

  @Override
  public void signalWorkflowExecution(SignalWorkflowExecutionRequest r, StreamObserver<SignalWorkflowExecutionResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("workflow_execution", r.hasWorkflowExecution(), r.getWorkflowExecution());
      Validation.requireId("signal_name", r.getSignalName());
      Validation.optionalId("request_id", r.getRequestId());
      history.signal(r);
      return SignalWorkflowExecutionResponse.getDefaultInstance();
    });
  }

  @Override
  public void requestCancelWorkflowExecution(RequestCancelWorkflowExecutionRequest r,
      StreamObserver<RequestCancelWorkflowExecutionResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("workflow_execution", r.hasWorkflowExecution(), r.getWorkflowExecution());
      history.requestCancel(r);
      return RequestCancelWorkflowExecutionResponse.getDefaultInstance();
    });
  }

  @Override
  public void terminateWorkflowExecution(TerminateWorkflowExecutionRequest r,
      StreamObserver<TerminateWorkflowExecutionResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("workflow_execution", r.hasWorkflowExecution(), r.getWorkflowExecution());
      history.terminate(r);
      return TerminateWorkflowExecutionResponse.getDefaultInstance();
    });
  }

  @Override
  public void describeWorkflowExecution(DescribeWorkflowExecutionRequest r,
      StreamObserver<DescribeWorkflowExecutionResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      return history.describe(r.getNamespace(), r.getExecution());
    });
  }

  // ---- history ------------------------------------------------------------------------------

  private static long remainingMillis(long capMillis, long marginMillis) {
    Deadline deadline = Context.current().getDeadline();
    long cap = capMillis;
    if (deadline != null) {
      cap = Math.min(cap, deadline.timeRemaining(TimeUnit.MILLISECONDS) - marginMillis);
    }
    return Math.max(0, cap);
  }

  @Override
  public void getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest r,
      StreamObserver<GetWorkflowExecutionHistoryResponse> observer) {
    if (!awaitCloseWithoutThread(r, observer)) {
      unary(observer, () -> readHistory(r));
    }
  }

  /**
   * A client waiting for a run's outcome (wait_new_event with the close-event filter and no page
   * token: how the official SDKs wait for a workflow's result) of a run held in memory waits
   * without a thread: its wait is registered from the network thread, and whichever thread writes
   * the run's close answers it with the close event, from memory. Everything else, and every case
   * this does not settle from memory (a run not held, a retried run to follow, a shard that stopped),
   * goes to {@link #readHistory} on a virtual thread. False when the call is left to the caller to
   * hand over that way.
   */
  private boolean awaitCloseWithoutThread(GetWorkflowExecutionHistoryRequest r,
      StreamObserver<GetWorkflowExecutionHistoryResponse> observer) {
    if (!r.getWaitNewEvent() || !r.getNextPageToken().isEmpty()
        || r.getHistoryEventFilterType() != HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        || !r.hasExecution() || r.getExecution().getWorkflowId().isEmpty()
        || !namespaces.isCached(r.getNamespace())) {
      return false;
    }
    Optional<ExecutionKey> resolved = history.resolveInMemory(r.getNamespace(), r.getExecution());
    if (resolved.isEmpty()) {
      return false;
    }
    ExecutionKey key = resolved.get();
    Optional<HistoryService.RunHead> head = history.headInMemory(key);
    long wait = remainingMillis(HISTORY_POLL_WAIT_MILLIS, 1000);
    if (head.isEmpty() || !head.get().running() || wait <= 0) {
      return false;
    }
    CompletableFuture<Void> closed = history.nextChange(key, head.get().lastEventId(), true);
    // Registered, then read again: a close between the first read and the registration is not missed.
    Optional<HistoryService.RunHead> again = history.headInMemory(key);
    if (again.isEmpty() || !again.get().running()) {
      history.stopWaiting(key, closed);
      return false;
    }
    Context call = Context.current();
    EventExecutor loop = LoopHandoff.currentLoop();
    Context.CancellationListener onCancel = ctx -> closed.cancel(false);
    call.addListener(onCancel, Runnable::run);
    ScheduledFuture<?> deadline;
    try {
      deadline = pollDeadlines.schedule(() -> closed.completeExceptionally(new TimeoutException()), wait,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopping) {
      call.removeListener(onCancel);
      history.stopWaiting(key, closed);
      return false;
    }
    closed.whenComplete((ignored, failure) -> {
      deadline.cancel(false);
      call.removeListener(onCancel);
      history.stopWaiting(key, closed);
      if (failure instanceof java.util.concurrent.CancellationException) {
        return; // the caller left
      }
      try {
        Optional<GetWorkflowExecutionHistoryResponse> answer = failure instanceof TimeoutException
            ? Optional.of(noCloseYet(key, history.headInMemory(key).orElse(again.get()).lastEventId()))
            : closeFromMemory(r, key);
        if (answer.isPresent()) {
          LoopHandoff.run(loop, () -> {
            try {
              observer.onNext(answer.get());
              observer.onCompleted();
            } catch (RuntimeException e) {
              log.warn("could not answer a wait for a run's close: namespace={} workflowId={} runId={}",
                  key.namespace(), key.workflowId(), key.runId(), e);
            }
          });
        } else {
          call.run(() -> unary(observer, () -> readHistory(r)));
        }
      } catch (RuntimeException e) {
        log.warn("could not answer a wait for a run's close: namespace={} workflowId={} runId={}",
            key.namespace(), key.workflowId(), key.runId(), e);
      }
    });
    return true;
  }

  /** The close event of a run that closed, from memory; empty when memory cannot settle it. */
  private Optional<GetWorkflowExecutionHistoryResponse> closeFromMemory(GetWorkflowExecutionHistoryRequest r,
      ExecutionKey key) {
    Optional<HistoryService.RunHead> head = history.headInMemory(key);
    if (head.isEmpty() || head.get().running()) {
      return Optional.empty();
    }
    Optional<List<EventRow>> close = history.eventsInMemory(key, head.get().lastEventId(), 1);
    if (close.isEmpty() || close.get().isEmpty()) {
      return Optional.empty();
    }
    // Asked for the workflow's outcome (no run id): a run retried by its policy is not it.
    if (r.getExecution().getRunId().isEmpty() && !retryRunId(close.get().get(0)).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(withHistory(GetWorkflowExecutionHistoryResponse.newBuilder(), close.get()).build());
  }

  /** The answer to a wait for a run's close that ended first: come back for the events after {@code last}. */
  private static GetWorkflowExecutionHistoryResponse noCloseYet(ExecutionKey key, long last) {
    return GetWorkflowExecutionHistoryResponse.newBuilder()
        .setNextPageToken(ByteString.copyFrom(new HistoryPageToken(key.runId(), last + 1, 0).encode()))
        .build();
  }

  private GetWorkflowExecutionHistoryResponse readHistory(GetWorkflowExecutionHistoryRequest r) {
    namespaces.require(r.getNamespace());
    requireExecution("execution", r.hasExecution(), r.getExecution());
    ExecutionKey key = history.resolve(r.getNamespace(), r.getExecution());
    long from = 1;
    // A bounded token (a workflow task's history, in pages) ends at its last event and never waits.
    long upTo = 0;
    if (!r.getNextPageToken().isEmpty()) {
      HistoryPageToken token = HistoryPageToken.decode(r.getNextPageToken().toByteArray(), key.runId());
      from = token.nextEventId();
      upTo = token.lastEventId();
    }
    boolean waitNewEvent = r.getWaitNewEvent() && upTo == 0;
    int pageSize = r.getMaximumPageSize() <= 0 ? 1000 : Math.min(r.getMaximumPageSize(), 1000);
    if (upTo > 0) {
      pageSize = (int) Math.max(0, Math.min(pageSize, upTo - from + 1));
    }
    long waitUntil = System.currentTimeMillis() + remainingMillis(HISTORY_POLL_WAIT_MILLIS, 1000);
    boolean closeOnly = r.getHistoryEventFilterType() == HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
    // Registered only once an answer needs a wait, then the run is read again: a change between
    // the read and the registration is not missed, and a run found closed costs no registration.
    CompletableFuture<Void> change = null;
    try {
      while (true) {
        HistoryService.RunHead head = history.head(key).orElseThrow(() -> Errors.notFound("workflow execution not found"));
        boolean running = head.running();
        long last = head.lastEventId();
        GetWorkflowExecutionHistoryResponse.Builder response = GetWorkflowExecutionHistoryResponse.newBuilder();
        if (closeOnly) {
          if (!running) {
            List<EventRow> close = history.readEventRows(key, last, 1);
            // Asked for the workflow's outcome (no run id): a run retried by its policy is not it.
            boolean followsRetries = r.getExecution().getRunId().isEmpty() && waitNewEvent;
            String retriedAs = followsRetries && !close.isEmpty() ? retryRunId(close.get(0)) : "";
            if (!retriedAs.isEmpty()) {
              if (change != null) {
                history.stopWaiting(key, change);
                change = null;
              }
              key = new ExecutionKey(key.namespace(), key.workflowId(), retriedAs);
              continue;
            }
            return withHistory(response, close).build();
          }
        } else {
          List<EventRow> events = pageSize == 0 ? List.of() : history.readEventRows(key, from, pageSize);
          if (!events.isEmpty() || !waitNewEvent || !running) {
            long next = events.isEmpty() ? from : events.getLast().eventId() + 1;
            withHistory(response, events);
            boolean more = upTo > 0 ? next <= Math.min(upTo, last) : next <= last || (waitNewEvent && running);
            if (more) {
              response.setNextPageToken(ByteString.copyFrom(new HistoryPageToken(key.runId(), next, upTo).encode()));
            }
            return response.build();
          }
        }
        if (!waitNewEvent) {
          return response.build();
        }
        if (change == null) {
          change = history.nextChange(key, from - 1, closeOnly);
          continue;
        }
        long wait = waitUntil - System.currentTimeMillis();
        if (wait <= 0 || !await(change, wait)) {
          if (!closeOnly) {
            response.setNextPageToken(ByteString.copyFrom(new HistoryPageToken(key.runId(), from, 0).encode()));
          } else {
            return noCloseYet(key, last);
          }
          return response.build();
        }
        // Woken, so no longer registered: read again, and register again only if it must wait on.
        change = null;
      }
    } finally {
      if (change != null) {
        history.stopWaiting(key, change);
      }
    }
  }

  /** {@code response} with {@code events} as its history, sent as the bytes they were stored as. */
  private static GetWorkflowExecutionHistoryResponse.Builder withHistory(
      GetWorkflowExecutionHistoryResponse.Builder response, List<EventRow> events) {
    return HistoryBytes.set(response, GetWorkflowExecutionHistoryResponse.HISTORY_FIELD_NUMBER, events);
  }

  /** The run that retries the run this stored event closed, or empty. */
  private static String retryRunId(EventRow stored) {
    HistoryEvent close = HistoryService.parseEvent(stored);
    return switch (close.getEventType()) {
      case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> close.getWorkflowExecutionFailedEventAttributes().getNewExecutionRunId();
      case EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT ->
          close.getWorkflowExecutionTimedOutEventAttributes().getNewExecutionRunId();
      default -> "";
    };
  }

  /** Waits for a future, ending early when the caller goes away; true when it completed. */
  private static boolean await(CompletableFuture<?> future, long millis) {
    Context.CancellationListener onCancel = ctx -> future.cancel(false);
    Context.current().addListener(onCancel, Runnable::run);
    try {
      future.get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | java.util.concurrent.CancellationException e) {
      return false;
    } catch (ExecutionException e) {
      throw Errors.internal("wait failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      Context.current().removeListener(onCancel);
    }
  }

  // ---- workflow tasks -----------------------------------------------------------------------

  /** Starts a task taken from the queue for a poll; one whose shard could not start it goes back to the queue. */
  private static <T> Optional<T> deliverQueued(TaskQueueDispatcher dispatcher, TaskRow task, String requestId,
      BiFunction<TaskRow, String, Optional<T>> deliver) {
    try {
      return deliver.apply(task, requestId);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE) {
        // Not started (its shard moving, or a commit failed): the task waits for the next poll.
        dispatcher.add(task);
      }
      throw e;
    }
  }

  /**
   * How a poll of one kind starts the tasks it takes: {@code deliver} waits for the start and
   * builds the response; {@code withoutWaiting} queues the start and returns its future, or nothing
   * when that task must be started by {@code deliver}; {@code none} answers a poll that got no task.
   */
  private record TaskStarts<T>(
      BiFunction<TaskRow, String, Optional<T>> deliver,
      BiFunction<TaskRow, String, Optional<CompletableFuture<Optional<HistoryService.StartedTask<T>>>>> withoutWaiting,
      T none) {}

  private <T> void pollTaskQueue(String namespace, boolean hasQueue, TaskQueue queue, TaskKind kind, String identity,
      String workerInstanceKey, TaskStarts<T> starts, StreamObserver<T> observer) {
    if (namespaces.isCached(namespace) && isValid(hasQueue, queue)) {
      new PollWithoutThread<>(namespace, queue.getName(), kind, identity, workerInstanceKey, starts, observer).start();
      return;
    }
    // The namespace is read from the store first (or the request is refused), on a thread that may block.
    BlockingCalls.offload(calls, "WorkflowService poll", observer, () -> {
      try {
        namespaces.require(namespace);
        Validation.requireTaskQueue("task_queue", hasQueue, queue);
      } catch (RuntimeException e) {
        answerFailure(observer, e);
        return;
      }
      new PollWithoutThread<>(namespace, queue.getName(), kind, identity, workerInstanceKey, starts, observer).start();
    });
  }

  private static boolean isValid(boolean hasQueue, TaskQueue queue) {
    try {
      Validation.requireTaskQueue("task_queue", hasQueue, queue);
      return true;
    } catch (StatusRuntimeException invalid) {
      return false; // answered by the handler, as any invalid request
    }
  }

  /**
   * A long poll of a task queue that holds no thread (the request's namespace cached, so nothing
   * needs the store to begin with). It asks its queue for a task from the network thread that
   * parsed it; while none is there it waits as a callback on its queue's future, withdrawn at its
   * deadline ({@link #pollDeadlines}), when its caller leaves or when its worker shuts down. The
   * thread that hands it a task (a network thread, or the history shard's after a commit) queues
   * the task's start as a change of the run, and the thread that computes that change answers with
   * a response built from memory; a task started for it in the write that created the task is
   * answered the same way by the thread that wrote it. What memory cannot answer (a history the
   * cache no longer holds), a task this server does not start itself (a query-only task, a run
   * another server owns) go on on a virtual thread, and so does a poll whose namespace must first
   * be read from the store; the poll itself never waits on a thread.
   */
  private final class PollWithoutThread<T> {
    private final Context call = Context.current();
    /** The network thread the poll came on, which sends its answer when the shard's writer has it. */
    private final EventExecutor loop = LoopHandoff.currentLoop();
    private final String namespace;
    private final String queue;
    private final TaskKind kind;
    private final String identity;
    private final String workerInstanceKey;
    private final String worker;
    private final TaskStarts<T> starts;
    private final StreamObserver<T> observer;
    private final TaskQueueDispatcher dispatcher;
    private final Pollers.QueueId queueId;
    private final PollReservation.Poller poller;
    private final long until;

    PollWithoutThread(String namespace, String queue, TaskKind kind, String identity, String workerInstanceKey,
        TaskStarts<T> starts, StreamObserver<T> observer) {
      this.namespace = namespace;
      this.queue = queue;
      this.kind = kind;
      this.identity = identity;
      this.workerInstanceKey = workerInstanceKey;
      this.worker = Pollers.key(namespace, workerInstanceKey);
      this.starts = starts;
      this.observer = observer;
      this.dispatcher = matching.queue(namespace, queue, kind);
      this.queueId = new Pollers.QueueId(namespace, queue, kind);
      this.poller = new PollReservation.Poller(identity, UUID.randomUUID().toString());
      this.until = System.currentTimeMillis() + remainingMillis(MAX_POLL_WAIT_MILLIS, 1000);
    }

    void start() {
      pollers.polled(queueId, identity);
      next();
    }

    /** Asks the queue for a task, or ends the poll empty once it is over. */
    private void next() {
      long wait = until - System.currentTimeMillis();
      if (wait <= 0 || call.isCancelled() || pollers.isShutDown(worker)) {
        answer(starts.none());
        return;
      }
      CompletableFuture<Dispatch> next = dispatcher.poll(poller);
      if (next.isDone()) {
        dispatched(next);
        return;
      }
      pollers.waiting(worker, next);
      ScheduledFuture<?> deadline;
      try {
        // Withdrawn unless a task has claimed it already; then the task's start answers.
        deadline = pollDeadlines.schedule(() -> next.cancel(false), wait, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException stopping) {
        next.cancel(false);
        deadline = null;
      }
      ScheduledFuture<?> armed = deadline;
      Context.CancellationListener onCancel = ctx -> next.cancel(false);
      call.addListener(onCancel, Runnable::run);
      next.whenComplete((dispatch, failure) -> {
        if (armed != null) {
          armed.cancel(false);
        }
        call.removeListener(onCancel);
        pollers.done(worker, next);
        dispatched(next);
      });
    }

    private void dispatched(CompletableFuture<Dispatch> next) {
      if (next.isCompletedExceptionally()) {
        answer(starts.none()); // withdrawn: its time was up, its caller left or its worker shut down
        return;
      }
      try {
        switch (next.join()) {
          case Dispatch.Queued queued -> start(queued.task());
          case Dispatch.Started started -> {
            @SuppressWarnings("unchecked") // the history service's response for this queue's kind of task
            Supplier<T> response = (Supplier<T>) started.response();
            Optional<T> fromMemory = response instanceof HistoryService.StartedTask<T> task
                ? task.fromMemory().get()
                : Optional.empty();
            if (fromMemory.isPresent()) {
              answer(fromMemory.get());
            } else {
              onThread(() -> Optional.of(response.get()));
            }
          }
          case Dispatch.NotStarted notStarted -> next(); // the change that reserved it was not written
        }
      } catch (RuntimeException e) {
        fail(e);
      }
    }

    /** Starts a task handed to this poll, as a change it does not wait for. */
    private void start(TaskRow task) {
      if (call.isCancelled()) {
        dispatcher.add(task);
        answer(starts.none());
        return;
      }
      Optional<CompletableFuture<Optional<HistoryService.StartedTask<T>>>> started;
      try {
        started = starts.withoutWaiting().apply(task, poller.requestId());
      } catch (RuntimeException e) {
        dispatcher.add(task); // not started: the task waits for the next poll
        fail(e);
        return;
      }
      if (started.isEmpty()) {
        onThread(() -> deliverQueued(dispatcher, task, poller.requestId(), starts.deliver()));
        return;
      }
      started.get().whenComplete((start, failure) -> {
        try {
          if (failure != null) {
            if (HistoryService.failure(failure).getStatus().getCode() == Status.Code.UNAVAILABLE) {
              dispatcher.add(task); // not started: the task waits for the next poll
            }
            fail(failure);
          } else if (start.isEmpty()) {
            next(); // the task went stale (its run moved on): wait for another
          } else {
            Optional<T> response = start.get().fromMemory().get();
            if (response.isPresent()) {
              answer(response.get());
            } else {
              onThread(() -> Optional.of(start.get().build().get()));
            }
          }
        } catch (RuntimeException e) {
          fail(e);
        }
      });
    }

    /**
     * Runs what may read the store or wait on a virtual thread, in the call's context; its response
     * answers the poll, and nothing (a task gone stale) sends the poll back to its queue.
     */
    private void onThread(Supplier<Optional<T>> body) {
      call.run(() -> BlockingCalls.offload(calls, "WorkflowService poll", observer, () -> {
        Optional<T> response;
        try {
          response = body.get();
        } catch (RuntimeException e) {
          fail(e);
          return;
        }
        if (response.isPresent()) {
          answer(response.get());
        } else {
          next();
        }
      }));
    }

    private void answer(T response) {
      pollers.polled(queueId, identity);
      LoopHandoff.run(loop, () -> {
        try {
          observer.onNext(response);
          observer.onCompleted();
        } catch (RuntimeException e) {
          log.debug("poll of {}/{} not answered: its caller left", namespace, queue, e);
        }
      });
    }

    private void fail(Throwable failure) {
      pollers.polled(queueId, identity);
      StatusRuntimeException status = HistoryService.failure(failure);
      if (status.getStatus().getCode() == Status.Code.INTERNAL) {
        log.error("poll of {}/{} failed unexpectedly", namespace, queue, failure);
      }
      LoopHandoff.run(loop, () -> {
        try {
          observer.onError(status);
        } catch (RuntimeException e) {
          log.debug("poll of {}/{} not answered: its caller left", namespace, queue, e);
        }
      });
    }
  }

  @Override
  public void pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest r, StreamObserver<PollWorkflowTaskQueueResponse> observer) {
    pollTaskQueue(r.getNamespace(), r.hasTaskQueue(), r.getTaskQueue(), TaskKind.WORKFLOW, r.getIdentity(),
        r.getWorkerInstanceKey(), new TaskStarts<>(
            (task, requestId) -> history.startWorkflowTask(task, r.getIdentity(), requestId),
            (task, requestId) -> history.startWorkflowTaskWithoutWaiting(task, r.getIdentity(), requestId),
            PollWorkflowTaskQueueResponse.getDefaultInstance()),
        observer);
  }

  private static TaskToken token(ByteString bytes, TaskToken.Kind expected) {
    if (bytes.isEmpty()) {
      throw Errors.invalidArgument("task_token is not set");
    }
    TaskToken token;
    try {
      token = TaskToken.decode(bytes.toByteArray());
    } catch (IllegalArgumentException e) {
      throw Errors.invalidArgument("task_token is malformed: " + e.getMessage());
    }
    if (token.kind() != expected) {
      throw Errors.invalidArgument("task_token is not a " + expected.name().toLowerCase().replace('_', ' ') + " token");
    }
    return token;
  }

  private void checkTokenNamespace(String requested, TaskToken token) {
    if (!requested.isEmpty() && !requested.equals(token.namespace())) {
      throw Errors.invalidArgument("task_token belongs to namespace " + token.namespace() + ", not " + requested);
    }
    namespaces.require(token.namespace());
  }

  @Override
  public void respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest r,
      StreamObserver<RespondWorkflowTaskCompletedResponse> observer) {
    onShard(observer, r.getNamespace(), () -> {
      TaskToken token = token(r.getTaskToken(), TaskToken.Kind.WORKFLOW_TASK);
      checkTokenNamespace(r.getNamespace(), token);
      if (r.hasStickyAttributes()) {
        Validation.optionalId("sticky_attributes.worker_task_queue.name",
            r.getStickyAttributes().getWorkerTaskQueue().getName());
        Validation.duration("sticky_attributes.schedule_to_start_timeout",
            r.getStickyAttributes().hasScheduleToStartTimeout(), r.getStickyAttributes().getScheduleToStartTimeout());
      }
      return new ShardCall<>(token.namespace(), token.workflowId(),
          () -> history.completeWorkflowTask(token, r));
    });
  }

  @Override
  public void respondWorkflowTaskFailed(RespondWorkflowTaskFailedRequest r,
      StreamObserver<RespondWorkflowTaskFailedResponse> observer) {
    unary(observer, () -> {
      TaskToken token = token(r.getTaskToken(), TaskToken.Kind.WORKFLOW_TASK);
      checkTokenNamespace(r.getNamespace(), token);
      history.failWorkflowTask(token, r);
      return RespondWorkflowTaskFailedResponse.getDefaultInstance();
    });
  }

  @Override
  public void queryWorkflow(QueryWorkflowRequest r, StreamObserver<QueryWorkflowResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      if (!r.hasQuery() || r.getQuery().getQueryType().isEmpty()) {
        throw Errors.invalidArgument("query.query_type is not set");
      }
      if (r.getQueryRejectCondition() != QueryRejectCondition.QUERY_REJECT_CONDITION_NONE
          && r.getQueryRejectCondition() != QueryRejectCondition.QUERY_REJECT_CONDITION_UNSPECIFIED) {
        ExecutionKey key = history.resolve(r.getNamespace(), r.getExecution());
        int status = history.head(key).orElseThrow(() -> Errors.notFound("workflow execution not found")).status();
        boolean reject = switch (r.getQueryRejectCondition()) {
          case QUERY_REJECT_CONDITION_NOT_OPEN -> status != 1;
          case QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY -> status != 1 && status != 2;
          default -> false;
        };
        if (reject) {
          return QueryWorkflowResponse.newBuilder()
              .setQueryRejected(QueryRejected.newBuilder()
                  .setStatus(io.temporal.api.enums.v1.WorkflowExecutionStatus.forNumber(status)))
              .build();
        }
      }
      WorkflowQueryResult result = history.query(r.getNamespace(), r.getExecution(), r.getQuery(),
          remainingMillis(MAX_POLL_WAIT_MILLIS, 500));
      if (result.getResultType() == QueryResultType.QUERY_RESULT_TYPE_FAILED) {
        throw Errors.queryFailed(result.getErrorMessage(), result.hasFailure() ? result.getFailure() : null);
      }
      return QueryWorkflowResponse.newBuilder().setQueryResult(result.getAnswer()).build();
    });
  }

  @Override
  public void respondQueryTaskCompleted(RespondQueryTaskCompletedRequest r,
      StreamObserver<RespondQueryTaskCompletedResponse> observer) {
    unary(observer, () -> {
      TaskToken token = token(r.getTaskToken(), TaskToken.Kind.QUERY_TASK);
      checkTokenNamespace(r.getNamespace(), token);
      history.answerQuery(token, r);
      return RespondQueryTaskCompletedResponse.getDefaultInstance();
    });
  }

  @Override
  public void resetStickyTaskQueue(ResetStickyTaskQueueRequest r, StreamObserver<ResetStickyTaskQueueResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      history.resetStickyTaskQueue(r.getNamespace(), r.getExecution());
      return ResetStickyTaskQueueResponse.getDefaultInstance();
    });
  }

  @Override
  public void shutdownWorker(ShutdownWorkerRequest r, StreamObserver<ShutdownWorkerResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      String worker = Pollers.key(r.getNamespace(), r.getWorkerInstanceKey());
      int ended = worker == null ? 0 : pollers.shutdown(worker);
      int moved = 0;
      if (!r.getStickyTaskQueue().isEmpty()) {
        moved = history.stickyQueueGone(matching.queue(r.getNamespace(), r.getStickyTaskQueue(), TaskKind.WORKFLOW).drainBacklog());
      }
      log.info("worker {} (instance {}) of task queue {} in namespace {} is shutting down: ended {} waiting polls, "
              + "moved {} tasks from its sticky queue {}",
          r.getIdentity(), r.getWorkerInstanceKey(), r.getTaskQueue(), r.getNamespace(), ended, moved,
          r.getStickyTaskQueue());
      return ShutdownWorkerResponse.getDefaultInstance();
    });
  }

  @Override
  public void describeTaskQueue(DescribeTaskQueueRequest r, StreamObserver<DescribeTaskQueueResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      Validation.requireTaskQueue("task_queue", r.hasTaskQueue(), r.getTaskQueue());
      TaskKind kind = switch (r.getTaskQueueType()) {
        case TASK_QUEUE_TYPE_UNSPECIFIED, TASK_QUEUE_TYPE_WORKFLOW -> TaskKind.WORKFLOW;
        case TASK_QUEUE_TYPE_ACTIVITY -> TaskKind.ACTIVITY;
        default -> throw Errors.invalidArgument("task_queue_type " + r.getTaskQueueType() + " is not supported");
      };
      String queue = r.getTaskQueue().getName();
      DescribeTaskQueueResponse.Builder response = DescribeTaskQueueResponse.newBuilder();
      for (Pollers.Poller poller : pollers.pollers(new Pollers.QueueId(r.getNamespace(), queue, kind))) {
        response.addPollers(io.temporal.api.taskqueue.v1.PollerInfo.newBuilder()
            .setIdentity(poller.identity())
            .setLastAccessTime(com.google.protobuf.util.Timestamps.fromMillis(poller.lastAccessMillis())));
      }
      int backlog = matching.queue(r.getNamespace(), queue, kind).backlogSize();
      if (r.getReportStats()) {
        response.setStats(io.temporal.api.taskqueue.v1.TaskQueueStats.newBuilder().setApproximateBacklogCount(backlog));
      }
      if (r.getIncludeTaskQueueStatus()) {
        response.setTaskQueueStatus(io.temporal.api.taskqueue.v1.TaskQueueStatus.newBuilder().setBacklogCountHint(backlog));
      }
      return response.build();
    });
  }

  // ---- activity tasks -----------------------------------------------------------------------

  @Override
  public void pollActivityTaskQueue(PollActivityTaskQueueRequest r, StreamObserver<PollActivityTaskQueueResponse> observer) {
    pollTaskQueue(r.getNamespace(), r.hasTaskQueue(), r.getTaskQueue(), TaskKind.ACTIVITY, r.getIdentity(),
        r.getWorkerInstanceKey(), new TaskStarts<>(
            (task, requestId) -> history.startActivityTask(task, r.getIdentity(), requestId),
            (task, requestId) -> history.startActivityTaskWithoutWaiting(task, r.getIdentity(), requestId),
            PollActivityTaskQueueResponse.getDefaultInstance()),
        observer);
  }

  private ActivityRef byToken(String namespace, ByteString bytes) {
    TaskToken token = token(bytes, TaskToken.Kind.ACTIVITY_TASK);
    checkTokenNamespace(namespace, token);
    return new ActivityRef.ByToken(token);
  }

  private ActivityRef byId(String namespace, String workflowId, String runId, String activityId) {
    namespaces.require(namespace);
    Validation.requireId("workflow_id", workflowId);
    Validation.optionalId("run_id", runId);
    Validation.requireId("activity_id", activityId);
    return new ActivityRef.ById(namespace, workflowId, runId, activityId);
  }

  /** The call that changes one activity: {@code change} on the activity's shard, then its answer. */
  private static <R, T> ShardCall<T> onActivity(ActivityRef ref,
      Function<ActivityRef, CompletableFuture<R>> change, Function<R, T> answer) {
    return new ShardCall<>(ref.namespace(), ref.workflowId(), () -> change.apply(ref).thenApply(answer));
  }

  @Override
  public void respondActivityTaskCompleted(RespondActivityTaskCompletedRequest r,
      StreamObserver<RespondActivityTaskCompletedResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(byToken(r.getNamespace(), r.getTaskToken()),
        ref -> history.completeActivity(ref, r.hasResult() ? r.getResult() : null, r.getIdentity()),
        done -> RespondActivityTaskCompletedResponse.getDefaultInstance()));
  }

  @Override
  public void respondActivityTaskCompletedById(RespondActivityTaskCompletedByIdRequest r,
      StreamObserver<RespondActivityTaskCompletedByIdResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(
        byId(r.getNamespace(), r.getWorkflowId(), r.getRunId(), r.getActivityId()),
        ref -> history.completeActivity(ref, r.hasResult() ? r.getResult() : null, r.getIdentity()),
        done -> RespondActivityTaskCompletedByIdResponse.getDefaultInstance()));
  }

  @Override
  public void respondActivityTaskFailed(RespondActivityTaskFailedRequest r,
      StreamObserver<RespondActivityTaskFailedResponse> observer) {
    onShard(observer, r.getNamespace(), () -> {
      if (!r.hasFailure()) {
        throw Errors.invalidArgument("failure is not set");
      }
      return onActivity(byToken(r.getNamespace(), r.getTaskToken()),
          ref -> history.failActivity(ref, r.getFailure(),
              r.hasLastHeartbeatDetails() ? r.getLastHeartbeatDetails() : null, r.getIdentity()),
          done -> RespondActivityTaskFailedResponse.getDefaultInstance());
    });
  }

  @Override
  public void respondActivityTaskFailedById(RespondActivityTaskFailedByIdRequest r,
      StreamObserver<RespondActivityTaskFailedByIdResponse> observer) {
    onShard(observer, r.getNamespace(), () -> {
      if (!r.hasFailure()) {
        throw Errors.invalidArgument("failure is not set");
      }
      return onActivity(byId(r.getNamespace(), r.getWorkflowId(), r.getRunId(), r.getActivityId()),
          ref -> history.failActivity(ref, r.getFailure(),
              r.hasLastHeartbeatDetails() ? r.getLastHeartbeatDetails() : null, r.getIdentity()),
          done -> RespondActivityTaskFailedByIdResponse.getDefaultInstance());
    });
  }

  @Override
  public void respondActivityTaskCanceled(RespondActivityTaskCanceledRequest r,
      StreamObserver<RespondActivityTaskCanceledResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(byToken(r.getNamespace(), r.getTaskToken()),
        ref -> history.cancelActivity(ref, r.hasDetails() ? r.getDetails() : null, r.getIdentity()),
        done -> RespondActivityTaskCanceledResponse.getDefaultInstance()));
  }

  @Override
  public void respondActivityTaskCanceledById(RespondActivityTaskCanceledByIdRequest r,
      StreamObserver<RespondActivityTaskCanceledByIdResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(
        byId(r.getNamespace(), r.getWorkflowId(), r.getRunId(), r.getActivityId()),
        ref -> history.cancelActivity(ref, r.hasDetails() ? r.getDetails() : null, r.getIdentity()),
        done -> RespondActivityTaskCanceledByIdResponse.getDefaultInstance()));
  }

  @Override
  public void recordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest r,
      StreamObserver<RecordActivityTaskHeartbeatResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(byToken(r.getNamespace(), r.getTaskToken()),
        ref -> history.heartbeat(ref, r.hasDetails() ? r.getDetails() : null),
        Function.identity()));
  }

  @Override
  public void recordActivityTaskHeartbeatById(RecordActivityTaskHeartbeatByIdRequest r,
      StreamObserver<RecordActivityTaskHeartbeatByIdResponse> observer) {
    onShard(observer, r.getNamespace(), () -> onActivity(
        byId(r.getNamespace(), r.getWorkflowId(), r.getRunId(), r.getActivityId()),
        ref -> history.heartbeat(ref, r.hasDetails() ? r.getDetails() : null),
        response -> RecordActivityTaskHeartbeatByIdResponse.newBuilder()
            .setCancelRequested(response.getCancelRequested())
            .setActivityPaused(response.getActivityPaused())
            .setActivityReset(response.getActivityReset())
            .build()));
  }

  // ---- operator actions on activities -------------------------------------------------------

  private static HistoryService.ActivitySelector selector(boolean hasId, String id, boolean hasType, String type,
      boolean all) {
    int given = (hasId ? 1 : 0) + (hasType ? 1 : 0) + (all ? 1 : 0);
    if (given != 1) {
      throw Errors.invalidArgument("exactly one of id, type or all/match_all must be set");
    }
    if (hasId) {
      Validation.requireId("id", id);
      return new HistoryService.ActivitySelector.ById(id);
    }
    if (hasType) {
      Validation.requireId("type", type);
      return new HistoryService.ActivitySelector.ByType(type);
    }
    return new HistoryService.ActivitySelector.All();
  }

  @Override
  public void pauseActivity(PauseActivityRequest r, StreamObserver<PauseActivityResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      history.pauseActivity(r.getNamespace(), r.getExecution(),
          selector(r.hasId(), r.getId(), r.hasType(), r.getType(), false), r.getIdentity(), r.getReason());
      return PauseActivityResponse.getDefaultInstance();
    });
  }

  @Override
  public void unpauseActivity(UnpauseActivityRequest r, StreamObserver<UnpauseActivityResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      history.unpauseActivity(r.getNamespace(), r.getExecution(),
          selector(r.hasId(), r.getId(), r.hasType(), r.getType(), r.getUnpauseAll()),
          r.getResetAttempts(), r.getResetHeartbeat());
      return UnpauseActivityResponse.getDefaultInstance();
    });
  }

  @Override
  public void resetActivity(ResetActivityRequest r, StreamObserver<ResetActivityResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      if (r.getRestoreOriginalOptions()) {
        throw Errors.invalidArgument("restore_original_options is not supported by this server yet");
      }
      history.resetActivity(r.getNamespace(), r.getExecution(),
          selector(r.hasId(), r.getId(), r.hasType(), r.getType(), r.getMatchAll()),
          r.getResetHeartbeat(), r.getKeepPaused());
      return ResetActivityResponse.getDefaultInstance();
    });
  }

  @Override
  public void updateActivityOptions(UpdateActivityOptionsRequest r, StreamObserver<UpdateActivityOptionsResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      requireExecution("execution", r.hasExecution(), r.getExecution());
      if (r.getRestoreOriginal()) {
        throw Errors.invalidArgument("restore_original is not supported by this server yet");
      }
      if (!r.hasUpdateMask() || r.getUpdateMask().getPathsCount() == 0) {
        throw Errors.invalidArgument("update_mask is not set");
      }
      if (!r.hasActivityOptions()) {
        throw Errors.invalidArgument("activity_options is not set");
      }
      var o = r.getActivityOptions();
      Validation.duration("activity_options.schedule_to_close_timeout", o.hasScheduleToCloseTimeout(), o.getScheduleToCloseTimeout());
      Validation.duration("activity_options.schedule_to_start_timeout", o.hasScheduleToStartTimeout(), o.getScheduleToStartTimeout());
      Validation.duration("activity_options.start_to_close_timeout", o.hasStartToCloseTimeout(), o.getStartToCloseTimeout());
      Validation.duration("activity_options.heartbeat_timeout", o.hasHeartbeatTimeout(), o.getHeartbeatTimeout());
      Validation.duration("activity_options.retry_policy.initial_interval",
          o.getRetryPolicy().hasInitialInterval(), o.getRetryPolicy().getInitialInterval());
      Validation.duration("activity_options.retry_policy.maximum_interval",
          o.getRetryPolicy().hasMaximumInterval(), o.getRetryPolicy().getMaximumInterval());
      var options = history.updateActivityOptions(r.getNamespace(), r.getExecution(),
          selector(r.hasId(), r.getId(), r.hasType(), r.getType(), r.getMatchAll()),
          r.getActivityOptions(), r.getUpdateMask().getPathsList());
      return UpdateActivityOptionsResponse.newBuilder().setActivityOptions(options).build();
    });
  }

  // ---- visibility ---------------------------------------------------------------------------

  private static VisibilityFilter filter(String query) {
    try {
      return ListFilterParser.toSql(query);
    } catch (InvalidListFilterException e) {
      throw Errors.invalidArgument(e.getMessage());
    }
  }

  @Override
  public void listWorkflowExecutions(ListWorkflowExecutionsRequest r, StreamObserver<ListWorkflowExecutionsResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      VisibilityFilter filter = filter(r.getQuery());
      int pageSize = r.getPageSize() <= 0 ? 1000 : Math.min(r.getPageSize(), 1000);
      int offset = 0;
      if (!r.getNextPageToken().isEmpty()) {
        if (r.getNextPageToken().size() != 4) {
          throw Errors.invalidArgument("next_page_token is malformed");
        }
        offset = r.getNextPageToken().asReadOnlyByteBuffer().getInt();
      }
      List<ExecutionRow> rows = store.listExecutions(r.getNamespace(), filter, offset, pageSize + 1);
      ListWorkflowExecutionsResponse.Builder response = ListWorkflowExecutionsResponse.newBuilder();
      rows.stream().limit(pageSize).forEach(row -> response.addExecutions(Describe.info(row)));
      if (rows.size() > pageSize) {
        response.setNextPageToken(ByteString.copyFrom(ByteBuffer.allocate(4).putInt(offset + pageSize).array()));
      }
      return response.build();
    });
  }

  @Override
  public void countWorkflowExecutions(CountWorkflowExecutionsRequest r, StreamObserver<CountWorkflowExecutionsResponse> observer) {
    unary(observer, () -> {
      namespaces.require(r.getNamespace());
      return CountWorkflowExecutionsResponse.newBuilder()
          .setCount(store.countExecutions(r.getNamespace(), filter(r.getQuery())))
          .build();
    });
  }
}
