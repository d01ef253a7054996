package dev.perdura.server.history;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.perdura.server.common.Errors;
import dev.perdura.server.common.HistoryBytes;
import dev.perdura.server.common.TaskToken;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.matching.PollReservation;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import dev.perdura.server.timers.TimerQueue;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.ContinueAsNewInitiator;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.WorkflowExecutionCancelRequestedEventAttributes;
import io.temporal.api.history.v1.WorkflowExecutionSignaledEventAttributes;
import io.temporal.api.history.v1.TimerFiredEventAttributes;
import io.temporal.api.query.v1.WorkflowQueryResult;
import io.temporal.api.workflowservice.v1.*;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The history service: owns the runs. Every change to a run goes through the run's shard
 * ({@code hash(namespace, workflow id) mod shards}), is durable before the caller hears back, and
 * then feeds matching (new tasks), the timer queue (new timers) and history long polls.
 *
 * <p>Requests arrive validated by the frontend; this layer enforces state rules (NOT_FOUND for
 * stale tasks and unknown runs, conflicts on start).
 */
public final class HistoryService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HistoryService.class);
  /** Upper bound for waiting on a shard; a change normally commits in milliseconds. */
  public static final long CHANGE_TIMEOUT_SECONDS = 30;
  /**
   * Serialized size of the events the history cache holds, over all runs (parsed, they take about
   * five times as much heap): thousands of runs, far more than are active at once.
   */
  private static final long HISTORY_CACHE_BYTES = 2L << 20;
  /**
   * Serialized size of the events of closed runs the history cache keeps: a few hundred runs, a
   * fraction of a second of closes under load, for the clients that wait for their results.
   */
  private static final long HISTORY_CACHE_CLOSED_BYTES = 512L << 10;
  private static final long CROSS_SHARD_RETRY_MILLIS = 5_000;
  /** Events in a workflow task's response; a longer history comes in pages. */
  static final int WORKFLOW_TASK_PAGE_EVENTS = 1000;
  /**
   * Events the history cache holds of one run: a longer run keeps its latest events, and whoever
   * reads its beginning reads the store.
   */
  private static final int HISTORY_CACHE_EVENTS_PER_RUN = 2000;

  /** A run's status and last event id, as of its latest committed change. */
  public record RunHead(int status, long lastEventId) {
    public boolean running() {
      return status == Statuses.RUNNING;
    }
  }

  private final Store store;
  private final Matching matching;
  private final Clock clock;
  private final MeterRegistry metrics;
  private final Peers peers;
  /** The shards this server owns now; null where another server owns the shard. */
  private final AtomicReferenceArray<HistoryShard> shards;
  private final HistoryShard.CommitListener commitListener = new HistoryShard.CommitListener() {
    @Override
    public void prepared(Tx tx) {
      startForWaitingPolls(tx);
    }

    @Override
    public void committed(ExecutionWrite write, Execution execution) {
      HistoryService.this.committed(write, execution);
    }
  };
  private final TimerQueue timers;
  private final HistoryWaiters waiters = new HistoryWaiters();
  private final QueryRegistry queries = new QueryRegistry();
  private final HistoryCache cache = new HistoryCache(HISTORY_CACHE_BYTES, HISTORY_CACHE_CLOSED_BYTES, HISTORY_CACHE_EVENTS_PER_RUN);
  private final Map<TaskKind, Counter> tasksQueued;
  private final Map<TaskKind, Counter> tasksStartedInWrite;
  private final Map<TaskKind, Counter> tasksEager;
  /** Runs the steps that touch two runs on different shards (child workflows), off the timer thread. */
  private final java.util.concurrent.ExecutorService crossShard =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  /**
   * @param shardCount the number of history shards; every server on one store uses the same
   * @param peers the other servers, for what a shard or task queue owned elsewhere must do
   */
  public HistoryService(Store store, Matching matching, Clock clock, int shardCount, MeterRegistry metrics,
      Peers peers) {
    this.store = store;
    this.tasksQueued = taskCounter(metrics, "queued");
    this.tasksStartedInWrite = taskCounter(metrics, "started_in_write");
    this.tasksEager = taskCounter(metrics, "eager");
    this.matching = matching;
    this.clock = clock;
    this.metrics = metrics;
    this.peers = peers;
    this.timers = new TimerQueue(clock, this::fireTimer);
    this.shards = new AtomicReferenceArray<>(shardCount);
  }

  /** Counts the tasks handed out by how they reached their worker, by kind. */
  private static Map<TaskKind, Counter> taskCounter(MeterRegistry metrics, String path) {
    Map<TaskKind, Counter> counters = new java.util.EnumMap<>(TaskKind.class);
    for (TaskKind kind : TaskKind.values()) {
      counters.put(kind, Counter.builder("perdura.tasks")
          .description("Workflow and activity tasks created, by how they reach a worker: through a queue, started"
              + " for a waiting poll in the write that made them, or returned eagerly in a response")
          .tag("kind", kind.name().toLowerCase(java.util.Locale.ROOT))
          .tag("path", path)
          .register(metrics));
    }
    return counters;
  }

  /** Durable timers not fired yet. */
  public int pendingTimers() {
    return timers.size();
  }

  /** Starts firing timers; the shards come with {@link #acquire}. */
  public void start() {
    timers.start();
  }

  /** The number of history shards (fixed for a store). */
  public int shardCount() {
    return shards.length();
  }

  /** The shard a run belongs to: {@code hash(namespace, workflow id) mod shards}. */
  public static int runShard(String namespace, String workflowId, int shardCount) {
    return ((namespace.hashCode() * 31 + workflowId.hashCode()) & 0x7fffffff) % shardCount;
  }

  /**
   * The shard whose owner serves a task queue (both kinds of it): {@code hash(namespace, queue)
   * mod shards}. Task queues are spread over the servers with the shards, not apart from them.
   */
  public static int queueShard(String namespace, String taskQueue, int shardCount) {
    return ((namespace.hashCode() * 31 + taskQueue.hashCode()) & 0x7fffffff) % shardCount;
  }

  /** Whether this server owns the run's shard now. */
  public boolean ownsRun(String namespace, String workflowId) {
    return shards.get(runShard(namespace, workflowId, shards.length())) != null;
  }

  /** Whether this server serves the task queue now. */
  public boolean ownsQueue(String namespace, String taskQueue) {
    return shards.get(queueShard(namespace, taskQueue, shards.length())) != null;
  }

  /** Whether this server owns shard {@code index} now. */
  public boolean owns(int index) {
    return shards.get(index) != null;
  }

  /** How many shards this server owns now. */
  public int ownedShards() {
    int owned = 0;
    for (int i = 0; i < shards.length(); i++) {
      if (shards.get(i) != null) {
        owned++;
      }
    }
    return owned;
  }

  /**
   * Takes shards over: their runs' timers and their task queues' backlog come from the store, then
   * their writers start. {@code leases} maps each shard to the lease its commits are fenced by
   * (null values when the store is this server's alone). The store holds everything the former
   * owner acknowledged, and that owner cannot commit under the lease any more, so this is the
   * restart path, per shard.
   */
  public void acquire(Map<Integer, Lease> leases) {
    if (leases.isEmpty()) {
      return;
    }
    int count = shards.length();
    List<TaskRow> tasks = new ArrayList<>();
    List<TimerRow> pending = new ArrayList<>();
    for (ExecutionRow row : store.loadPending()) {
      ExecutionState s = StateCodec.decode(row.state());
      tasks.addAll(s.queuedTasks);
      s.armedTimers.forEach((timerKey, fireAt) -> pending.add(new TimerRow(row.key(), timerKey, fireAt)));
    }
    Map<ExecutionKey, HistoryShard.LegacyRows> legacy = legacyRows();
    legacy.values().forEach(rows -> {
      tasks.addAll(rows.tasks());
      pending.addAll(rows.timers());
    });
    tasks.sort(java.util.Comparator.comparingLong(TaskRow::createdAtMillis));
    // Installed before the rows are restored, so a timer or task that comes due at once finds its
    // shard here; started after, so no change can arm a timer that a restored row then overwrites.
    List<HistoryShard> started = new ArrayList<>();
    for (Map.Entry<Integer, Lease> shard : leases.entrySet()) {
      HistoryShard created = new HistoryShard(shard.getKey(), store, shard.getValue(), clock, metrics, commitListener);
      Map<ExecutionKey, HistoryShard.LegacyRows> own = new java.util.HashMap<>();
      legacy.forEach((key, rows) -> {
        if (runShard(key.namespace(), key.workflowId(), count) == shard.getKey()) {
          own.put(key, rows);
        }
      });
      created.adoptLegacyRows(own);
      int index = shard.getKey();
      created.learnWorkflowIds(key -> runShard(key.namespace(), key.workflowId(), count) == index);
      started.add(created);
      HistoryShard previous = shards.getAndSet(shard.getKey(), created);
      if (previous != null) {
        previous.close();
      }
    }
    int restoredTasks = 0;
    List<TaskRow> elsewhere = new ArrayList<>();
    for (TaskRow task : tasks) {
      if (leases.containsKey(queueShard(task.execution().namespace(), task.taskQueue(), count))) {
        enqueueHere(task);
        restoredTasks++;
      } else if (leases.containsKey(runShard(task.execution().namespace(), task.execution().workflowId(), count))) {
        // A task of a run taken over here, for a queue served elsewhere: the former owner of the run
        // may have died (or stopped) before handing it over, and the queue's owner loaded its
        // backlog before the task existed. Hand it over again; a task twice in a queue is harmless.
        if (ownsQueue(task.execution().namespace(), task.taskQueue())) {
          enqueueHere(task);
        } else {
          elsewhere.add(task);
        }
        restoredTasks++;
      }
    }
    int restoredTimers = 0;
    for (TimerRow timer : pending) {
      if (leases.containsKey(runShard(timer.execution().namespace(), timer.execution().workflowId(), count))) {
        timers.schedule(timer);
        restoredTimers++;
      }
    }
    started.forEach(HistoryShard::start);
    elsewhere.forEach(peers::addTask);
    log.info("history shards {} of {} started: {} backlog tasks and {} timers restored", new java.util.TreeSet<>(
        leases.keySet()), count, restoredTasks, restoredTimers);
  }

  /** The task and timer rows that servers before the current state format wrote, by run. */
  private Map<ExecutionKey, HistoryShard.LegacyRows> legacyRows() {
    Map<ExecutionKey, List<TaskRow>> tasks = new java.util.HashMap<>();
    Map<ExecutionKey, List<TimerRow>> timerRows = new java.util.HashMap<>();
    store.loadLegacyTasks().forEach(t -> tasks.computeIfAbsent(t.execution(), k -> new ArrayList<>()).add(t));
    store.loadLegacyTimers().forEach(t -> timerRows.computeIfAbsent(t.execution(), k -> new ArrayList<>()).add(t));
    Map<ExecutionKey, HistoryShard.LegacyRows> rows = new java.util.HashMap<>();
    java.util.Set<ExecutionKey> runs = new java.util.HashSet<>(tasks.keySet());
    runs.addAll(timerRows.keySet());
    for (ExecutionKey run : runs) {
      rows.put(run, new HistoryShard.LegacyRows(
          tasks.getOrDefault(run, List.of()), timerRows.getOrDefault(run, List.of())));
    }
    return rows;
  }

  /** Takes every shard, unfenced: for a server alone on its store. */
  public void acquireAll() {
    Map<Integer, Lease> all = new java.util.HashMap<>();
    for (int i = 0; i < shards.length(); i++) {
      all.put(i, null);
    }
    acquire(all);
  }

  /**
   * Gives a shard up: its writer finishes what was queued (each commit still fenced), its timers
   * and task queues leave this server, and runs cached from it are forgotten, since another
   * server appends to them from now on.
   */
  public void release(int index) {
    HistoryShard shard = shards.getAndSet(index, null);
    if (shard == null) {
      return;
    }
    shard.close();
    int count = shards.length();
    timers.cancelAll(key -> runShard(key.namespace(), key.workflowId(), count) == index);
    matching.closeQueues((namespace, queue) -> queueShard(namespace, queue, count) == index);
    cache.forgetAll(key -> runShard(key.namespace(), key.workflowId(), count) == index);
    waiters.wakeAll();
    log.info("history shard {} of {} given up", index, count);
  }

  private HistoryShard shardOf(String namespace, String workflowId) {
    int index = runShard(namespace, workflowId, shards.length());
    HistoryShard shard = shards.get(index);
    if (shard == null) {
      throw Errors.unavailable("workflow " + workflowId + " belongs to history shard " + index
          + ", which another server owns now (or none yet); retry", null);
    }
    return shard;
  }

  /** A task for a queue: into this server's matching when it serves the queue, else to the server that does. */
  private void addTask(TaskRow task) {
    if (ownsQueue(task.execution().namespace(), task.taskQueue())) {
      matching.add(task);
    } else {
      peers.addTask(task);
    }
  }

  /**
   * A task another server sends for a queue this server serves.
   *
   * @throws StatusRuntimeException UNAVAILABLE when this server does not serve that queue (any more)
   */
  public void acceptTask(TaskRow task) {
    if (!ownsQueue(task.execution().namespace(), task.taskQueue())) {
      throw Errors.unavailable("task queue " + task.taskQueue() + " is not served by this server (any more)", null);
    }
    enqueueHere(task);
  }

  /**
   * Into this server's matching, which serves the task's queue; only a run of this server's
   * shards is remembered for dropping its backlog when it closes (this server sees that close).
   */
  private void enqueueHere(TaskRow task) {
    if (ownsRun(task.execution().namespace(), task.execution().workflowId())) {
      matching.add(task);
    } else {
      matching.addForeign(task);
    }
  }

  private <R> R change(String namespace, String workflowId, Function<Tx, R> body) {
    return await(shardOf(namespace, workflowId).submit(body));
  }

  /**
   * Waits for a change (or what follows it) on the calling thread, with the failures a change's
   * caller answers with.
   */
  public static <R> R await(CompletableFuture<R> result) {
    try {
      return result.get(CHANGE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw failure(e.getCause());
    } catch (TimeoutException e) {
      throw Errors.unavailable("history shard is overloaded, try again", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable("interrupted", e);
    }
  }

  /** The status a change's caller answers with when the change (or what follows it) failed with {@code cause}. */
  public static StatusRuntimeException failure(Throwable cause) {
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof StatusRuntimeException status) {
      return status;
    }
    return Errors.internal("change failed: " + cause, cause);
  }

  /**
   * A change and what its caller makes of its result ({@code then}), run by the thread that wrote
   * the change's batch once it is durable (or by the caller, when it led the batch itself); a
   * failure of either fails the returned future (see {@link #failure}). Nothing here blocks: a
   * caller that must not (a network thread) is answered from the future, one that waits uses
   * {@link #await}, which has the timeout.
   */
  private <R, T> CompletableFuture<T> changeThen(String namespace, String workflowId, Function<Tx, R> body,
      Function<R, T> then) {
    // No timeout of its own: a change always finishes (written, failed, or failed by the shard
    // stopping); should the store hang, the client's deadline ends a call that does not wait.
    return shardOf(namespace, workflowId).submit(body).thenApply(then);
  }

  /**
   * Matches at the source: a workflow or activity task that a change queues, on a queue where a
   * poll is waiting, is started for that poll in the same write. The task never enters the store or
   * the queue, and the poll is answered without a write of its own: one commit and one shard
   * round trip less per task, whenever workers keep up.
   */
  private void startForWaitingPolls(Tx tx) {
    for (Execution e : tx.working().values()) {
      if (e.putTasks.isEmpty() || !e.state.isRunning()) {
        continue;
      }
      for (TaskRow task : List.copyOf(e.putTasks)) {
        boolean startable = ownsQueue(task.execution().namespace(), task.taskQueue()) && switch (task.kind()) {
          case WORKFLOW -> WorkflowTasks.isStartable(e, task);
          case ACTIVITY -> Activities.isStartable(e, task);
        };
        Optional<PollReservation> reserved = startable
            ? matching.queue(task.execution().namespace(), task.taskQueue(), task.kind()).reserveWaitingPoll()
            : Optional.empty();
        if (reserved.isEmpty()) {
          continue;
        }
        PollReservation poll = reserved.get();
        String identity = poll.poller().identity();
        String requestId = poll.poller().requestId();
        ExecutionKey key = e.key;
        Supplier<?> response = switch (task.kind()) {
          case WORKFLOW -> {
            WorkflowTasks.Started started = WorkflowTasks.startQueued(e, task, identity, requestId);
            List<QueryRegistry.PendingQuery> pending = queries.takeWaiting(key);
            yield new StartedTask<>(() -> workflowTaskResponse(key, started, pending, true),
                () -> workflowTaskResponse(key, started, pending, false).orElseThrow());
          }
          case ACTIVITY -> {
            Activities.Started started = Activities.startQueued(e, task, identity, requestId);
            yield new StartedTask<>(() -> activityTaskFromMemory(key, started), () -> activityTaskResponse(key, started));
          }
        };
        tx.afterCommit(() -> {
          tasksStartedInWrite.get(task.kind()).increment();
          poll.fulfil(response);
        });
        tx.ifNotWritten(poll::release);
      }
    }
  }

  private void committed(ExecutionWrite write, Execution e) {
    ExecutionKey key = write.row().key();
    if (write.purge()) {
      cache.forget(key);
      return;
    }
    // First, so that whoever is told about this change below finds its events in the cache.
    cache.committed(key, write.expectedVersion() == 0, write.row().visibility().status(), e.newEvents);
    if (write.makeCurrent()) {
      cache.madeCurrent(key);
    }
    if (e.clearedTasksAndTimers) {
      matching.removeExecution(key);
      timers.cancelAll(key);
    }
    for (TaskRow task : e.putTasks) {
      tasksQueued.get(task.kind()).increment();
      addTask(task);
    }
    for (TimerRow timer : e.putTimers) {
      timers.schedule(timer);
    }
    for (String timerKey : e.deleteTimers) {
      timers.cancel(key, timerKey);
    }
    if (!write.events().isEmpty()) {
      waiters.changed(key, write.row().visibility().status(), write.row().visibility().historyLength());
    }
  }

  // ---- workflow lifecycle -------------------------------------------------------------------

  /**
   * Starts a run. With {@code eagerIdentity} (a worker that asked for eager execution), the run's
   * first workflow task comes back in the response, started for that worker, instead of being
   * queued for a poll. The response completes once the start is durable (see {@link #changeThen}).
   */
  public CompletableFuture<StartWorkflowExecutionResponse> startWorkflow(NewRun run,
      WorkflowStarts.Policies policies, String eagerIdentity) {
    return changeThen(run.namespace(), run.workflowId(),
        tx -> WorkflowStarts.start(tx, run, policies, eagerIdentity), outcome -> started(run, outcome));
  }

  private StartWorkflowExecutionResponse started(NewRun run, WorkflowStarts.Outcome outcome) {
    if (outcome.eagerTask().isEmpty()) {
      return outcome.response();
    }
    tasksEager.get(TaskKind.WORKFLOW).increment();
    ExecutionKey key = new ExecutionKey(run.namespace(), run.workflowId(), outcome.response().getRunId());
    return outcome.response().toBuilder()
        .setEagerWorkflowTask(workflowTaskResponse(key, outcome.eagerTask().get(), List.of(), false).orElseThrow())
        .build();
  }

  public SignalWithStartWorkflowExecutionResponse signalWithStart(
      NewRun run, WorkflowStarts.Policies policies, SignalWorkflowExecutionRequest signal) {
    return change(
        run.namespace(),
        run.workflowId(),
        tx -> WorkflowStarts.signalWithStart(tx, run, policies, signal));
  }

  public void signal(SignalWorkflowExecutionRequest request) {
    WorkflowExecution target = request.getWorkflowExecution();
    change(
        request.getNamespace(),
        target.getWorkflowId(),
        tx -> {
          Execution e = tx.require(request.getNamespace(), target.getWorkflowId(), target.getRunId());
          if (!e.state.isRunning()) {
            throw Errors.notFound("workflow execution already completed");
          }
          WorkflowStarts.appendSignal(e, request);
          return null;
        });
  }

  public void requestCancel(RequestCancelWorkflowExecutionRequest request) {
    WorkflowExecution target = request.getWorkflowExecution();
    change(
        request.getNamespace(),
        target.getWorkflowId(),
        tx -> {
          Execution e = tx.require(request.getNamespace(), target.getWorkflowId(), target.getRunId());
          if (!request.getFirstExecutionRunId().isEmpty()
              && !request.getFirstExecutionRunId().equals(e.state.firstRunId)) {
            throw Errors.notFound("workflow execution not found in chain " + request.getFirstExecutionRunId());
          }
          ExecutionState s = e.state;
          if (!s.isRunning() || s.cancelRequested || s.recentRequestIds.contains(request.getRequestId())) {
            return null;
          }
          s.rememberRequestId(request.getRequestId());
          appendCancelRequest(e, request.getReason(), request.getIdentity());
          return null;
        });
  }

  /** Records a cancel request on a running run (once) and schedules a task for the code to see it. */
  static void appendCancelRequest(Execution e, String cause, String identity) {
    if (e.state.cancelRequested) {
      return;
    }
    e.state.cancelRequested = true;
    e.appendOrBuffer(
        HistoryEvent.newBuilder()
            .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
            .setWorkflowExecutionCancelRequestedEventAttributes(
                WorkflowExecutionCancelRequestedEventAttributes.newBuilder().setCause(cause).setIdentity(identity)));
    Runs.scheduleWorkflowTask(e);
  }

  public void terminate(TerminateWorkflowExecutionRequest request) {
    WorkflowExecution target = request.getWorkflowExecution();
    change(
        request.getNamespace(),
        target.getWorkflowId(),
        tx -> {
          Execution e = tx.require(request.getNamespace(), target.getWorkflowId(), target.getRunId());
          if (!request.getFirstExecutionRunId().isEmpty()
              && !request.getFirstExecutionRunId().equals(e.state.firstRunId)) {
            throw Errors.notFound("workflow execution not found in chain " + request.getFirstExecutionRunId());
          }
          if (!e.state.isRunning()) {
            throw Errors.notFound("workflow execution already completed");
          }
          Runs.terminate(
              e, request.getReason(), request.hasDetails() ? request.getDetails() : null, request.getIdentity());
          log.info("terminated workflow {} run {} in {}: {}", e.key.workflowId(), e.key.runId(), e.key.namespace(), request.getReason());
          return null;
        });
  }

  public DescribeWorkflowExecutionResponse describe(String namespace, WorkflowExecution execution) {
    return change(
        namespace,
        execution.getWorkflowId(),
        tx -> Describe.describe(tx.require(namespace, execution.getWorkflowId(), execution.getRunId())));
  }

  // ---- workflow tasks -----------------------------------------------------------------------

  /**
   * A task started for a poll by a change that the poll did not wait for: its response, built from
   * memory when memory holds what it carries ({@link #fromMemory}), else by {@link #build}, which
   * may read the store and so belongs on a thread that may block.
   */
  public record StartedTask<T>(Supplier<Optional<T>> fromMemory, Supplier<T> build) implements Supplier<T> {
    /** The response, from memory or else the store. */
    @Override
    public T get() {
      return build.get();
    }
  }

  private record WorkflowTaskStart(WorkflowTasks.Started started, List<QueryRegistry.PendingQuery> queries) {}

  /** Starts a dispatched workflow task (or serves a query-only task); empty when it went stale. */
  public Optional<PollWorkflowTaskQueueResponse> startWorkflowTask(TaskRow task, String identity, String requestId) {
    if (!ownsRun(task.execution().namespace(), task.execution().workflowId())) {
      return peers.startWorkflowTask(task, identity, requestId);
    }
    if (task.scheduledEventId() < 0) {
      return queryTask(task);
    }
    ExecutionKey key = task.execution();
    Optional<WorkflowTaskStart> start =
        change(key.namespace(), key.workflowId(), tx -> startWorkflowTask(tx, task, identity, requestId));
    return start.map(s -> workflowTaskResponse(key, s.started(), s.queries(), false).orElseThrow());
  }

  /**
   * {@link #startWorkflowTask} for a caller that must not wait (a network thread): the returned
   * future completes on the thread that computed the start, with nothing when the task went stale.
   * Empty when this task is not started that way (a query-only task, or a run another server
   * owns): the caller then uses {@link #startWorkflowTask} on a thread that may wait.
   */
  public Optional<CompletableFuture<Optional<StartedTask<PollWorkflowTaskQueueResponse>>>> startWorkflowTaskWithoutWaiting(
      TaskRow task, String identity, String requestId) {
    if (!ownsRun(task.execution().namespace(), task.execution().workflowId()) || task.scheduledEventId() < 0) {
      return Optional.empty();
    }
    ExecutionKey key = task.execution();
    return Optional.of(changeThen(key.namespace(), key.workflowId(),
        tx -> startWorkflowTask(tx, task, identity, requestId),
        start -> start.map(s -> new StartedTask<>(
            () -> workflowTaskResponse(key, s.started(), s.queries(), true),
            () -> workflowTaskResponse(key, s.started(), s.queries(), false).orElseThrow()))));
  }

  private Optional<WorkflowTaskStart> startWorkflowTask(Tx tx, TaskRow task, String identity, String requestId) {
    // The start is done again should a crash forget it: the run's next write carries it.
    tx.mayHoldBack();
    return WorkflowTasks.start(tx, task, identity, requestId)
        .map(s -> new WorkflowTaskStart(s, queries.takeWaiting(task.execution())));
  }

  /**
   * What the worker gets for a started workflow task: token, the history it lacks, queries. Empty
   * when {@code memoryOnly} and memory does not hold that history.
   */
  private Optional<PollWorkflowTaskQueueResponse> workflowTaskResponse(
      ExecutionKey key, WorkflowTasks.Started s, List<QueryRegistry.PendingQuery> queries, boolean memoryOnly) {
    long from = s.sticky() ? s.previousStartedEventId() + 1 : 1;
    Optional<List<EventRow>> history =
        readHistory(key, from, Math.min(s.startedEventId(), from + WORKFLOW_TASK_PAGE_EVENTS - 1), memoryOnly);
    if (history.isEmpty()) {
      return Optional.empty();
    }
    PollWorkflowTaskQueueResponse.Builder response =
        PollWorkflowTaskQueueResponse.newBuilder()
            .setTaskToken(com.google.protobuf.ByteString.copyFrom(s.token().encode()))
            .setWorkflowExecution(execution(key))
            .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(s.workflowType()))
            .setPreviousStartedEventId(s.previousStartedEventId())
            .setStartedEventId(s.startedEventId())
            .setAttempt(s.attempt())
            .setWorkflowExecutionTaskQueue(
                io.temporal.api.taskqueue.v1.TaskQueue.newBuilder()
                    .setName(s.taskQueue())
                    .setKind(io.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setScheduledTime(Protos.timestamp(s.scheduledTime()))
            .setStartedTime(Protos.timestamp(s.startedTime()));
    if (s.startedEventId() - from + 1 > WORKFLOW_TASK_PAGE_EVENTS) {
      // The worker reads the rest with GetWorkflowExecutionHistory, up to this task's started event.
      response.setNextPageToken(com.google.protobuf.ByteString.copyFrom(new dev.perdura.server.common.HistoryPageToken(
          key.runId(), from + WORKFLOW_TASK_PAGE_EVENTS, s.startedEventId()).encode()));
    }
    for (QueryRegistry.PendingQuery query : queries) {
      response.putQueries(query.id(), query.query());
    }
    HistoryBytes.set(response, PollWorkflowTaskQueueResponse.HISTORY_FIELD_NUMBER, history.get());
    return Optional.of(response.build());
  }

  private static WorkflowExecution execution(ExecutionKey key) {
    return WorkflowExecution.newBuilder().setWorkflowId(key.workflowId()).setRunId(key.runId()).build();
  }

  /** Events {@code fromEventId..upToEventId}, from memory or else the store; empty when {@code memoryOnly} and memory lacks them. */
  private Optional<List<EventRow>> readHistory(ExecutionKey key, long fromEventId, long upToEventId, boolean memoryOnly) {
    Optional<List<EventRow>> cached = cache.events(key, fromEventId, upToEventId);
    if (cached.isPresent() || memoryOnly) {
      return cached;
    }
    int count = (int) Math.min(Integer.MAX_VALUE, upToEventId - fromEventId + 1);
    return Optional.of(storedEvents(key, fromEventId, count));
  }

  private List<EventRow> heldBackEvents(ExecutionKey key, long fromEventId) {
    HistoryShard shard = shards.get(runShard(key.namespace(), key.workflowId(), shards.length()));
    return shard == null ? List.of() : shard.heldBackEvents(key, fromEventId);
  }

  /**
   * Up to {@code max} events from {@code fromEventId}: those in the store, followed by those the
   * run's shard holds back (a workflow task's start, not written until the run's next change).
   */
  private List<EventRow> storedEvents(ExecutionKey key, long fromEventId, int max) {
    // Held-back events first: written after this look, they are in the store read below.
    List<EventRow> heldBack = heldBackEvents(key, fromEventId);
    List<EventRow> stored = store.readEvents(key, fromEventId, max);
    if (heldBack.isEmpty() || stored.size() >= max) {
      return stored;
    }
    List<EventRow> events = new ArrayList<>(stored);
    long next = stored.isEmpty() ? fromEventId : stored.getLast().eventId() + 1;
    for (EventRow event : heldBack) {
      if (events.size() < max && event.eventId() == next) {
        events.add(event);
        next++;
      }
    }
    return events;
  }

  /** The event {@code row} holds. */
  public static HistoryEvent parseEvent(EventRow row) {
    try {
      return HistoryEvent.parseFrom(row.data());
    } catch (InvalidProtocolBufferException e) {
      throw Errors.internal("stored event " + row.eventId() + " is unreadable", e);
    }
  }

  /** Completes a workflow task with its commands; the response (eager activities) once durable. */
  public CompletableFuture<RespondWorkflowTaskCompletedResponse> completeWorkflowTask(
      TaskToken token, RespondWorkflowTaskCompletedRequest request) {
    return changeThen(token.namespace(), token.workflowId(), tx -> completeWorkflowTask(tx, token, request),
        completion -> completedWorkflowTask(token, completion));
  }

  private record TaskCompletion(Optional<StatusRuntimeException> error, List<Activities.EagerStart> eager) {}

  private TaskCompletion completeWorkflowTask(Tx tx, TaskToken token, RespondWorkflowTaskCompletedRequest request) {
    ExecutionKey key = new ExecutionKey(token.namespace(), token.workflowId(), token.runId());
    Optional<StatusRuntimeException> outcome = WorkflowTasks.complete(tx, token, request);
    request.getQueryResultsMap().forEach(queries::answer);
    List<Activities.EagerStart> eager = List.of();
    Optional<Execution> found = tx.find(key);
    if (found.isPresent()) {
      Execution e = found.get();
      eager = List.copyOf(e.eagerStarts);
      if (e.state.workflowTask == null) {
        List<QueryRegistry.PendingQuery> waiting = queries.takeWaiting(key);
        tx.afterCommit(() -> waiting.forEach(q -> dispatchQueryTask(e.state.taskQueue, q)));
      }
    }
    return new TaskCompletion(outcome, eager);
  }

  private RespondWorkflowTaskCompletedResponse completedWorkflowTask(TaskToken token, TaskCompletion completion) {
    if (completion.error().isPresent()) {
      throw completion.error().get();
    }
    ExecutionKey key = new ExecutionKey(token.namespace(), token.workflowId(), token.runId());
    RespondWorkflowTaskCompletedResponse.Builder response = RespondWorkflowTaskCompletedResponse.newBuilder();
    tasksEager.get(TaskKind.ACTIVITY).increment(completion.eager().size());
    for (Activities.EagerStart eager : completion.eager()) {
      response.addActivityTasks(activityTask(key, eager.started(), eager.scheduled()));
    }
    return response.build();
  }

  public void failWorkflowTask(TaskToken token, RespondWorkflowTaskFailedRequest request) {
    change(
        token.namespace(),
        token.workflowId(),
        tx -> {
          Execution e = WorkflowTasks.requireCurrent(tx, token);
          WorkflowTasks.fail(
              e, request.getCause(), request.hasFailure() ? request.getFailure() : null, request.getIdentity());
          log.warn(
              "workflow task failed: namespace={} workflowId={} runId={} attempt={} cause={} message={}",
              token.namespace(), token.workflowId(), token.runId(), token.attempt(), request.getCause(),
              request.getFailure().getMessage());
          return null;
        });
  }

  /** Forgets the run's sticky queue (the worker dropped it from its cache). */
  public void resetStickyTaskQueue(String namespace, WorkflowExecution execution) {
    change(namespace, execution.getWorkflowId(), tx -> {
      Execution e = tx.require(namespace, execution.getWorkflowId(), execution.getRunId());
      if (e.state.stickyQueue != null) {
        WorkflowTasks.clearStickiness(e.state);
        e.markChanged();
      }
      return null;
    });
  }

  /**
   * The worker behind a sticky queue shut down: each of its waiting workflow tasks goes to the run's
   * normal queue now, as if its sticky schedule-to-start timeout had passed. Returns how many.
   */
  public int stickyQueueGone(List<TaskRow> tasks) {
    for (TaskRow task : tasks) {
      TimerRow timeout = new TimerRow(task.execution(),
          WorkflowTasks.stickyTimeoutTimerKey(task.scheduledEventId(), task.attempt()), clock.millis());
      if (ownsRun(task.execution().namespace(), task.execution().workflowId())) {
        fireTimer(timeout);
      } else {
        peers.fireTimer(timeout);
      }
    }
    return tasks.size();
  }

  // ---- activity tasks -----------------------------------------------------------------------

  public Optional<PollActivityTaskQueueResponse> startActivityTask(TaskRow task, String identity, String requestId) {
    if (!ownsRun(task.execution().namespace(), task.execution().workflowId())) {
      return peers.startActivityTask(task, identity, requestId);
    }
    ExecutionKey key = task.execution();
    Optional<Activities.Started> started =
        change(key.namespace(), key.workflowId(), tx -> Activities.start(tx, task, identity, requestId));
    if (started.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(activityTaskResponse(key, started.get()));
  }

  /** {@link #startActivityTask} for a caller that must not wait; see {@link #startWorkflowTaskWithoutWaiting}. */
  public Optional<CompletableFuture<Optional<StartedTask<PollActivityTaskQueueResponse>>>> startActivityTaskWithoutWaiting(
      TaskRow task, String identity, String requestId) {
    if (!ownsRun(task.execution().namespace(), task.execution().workflowId())) {
      return Optional.empty();
    }
    ExecutionKey key = task.execution();
    return Optional.of(changeThen(key.namespace(), key.workflowId(),
        tx -> Activities.start(tx, task, identity, requestId),
        started -> started.map(a -> new StartedTask<>(
            () -> activityTaskFromMemory(key, a), () -> activityTaskResponse(key, a)))));
  }

  private Optional<PollActivityTaskQueueResponse> activityTaskFromMemory(ExecutionKey key, Activities.Started started) {
    long scheduledEventId = started.activity().scheduledEventId;
    return cache.eventsFrom(key, scheduledEventId, 1)
        .filter(events -> !events.isEmpty() && events.get(0).eventId() == scheduledEventId)
        .map(events -> activityTask(key, started, parseEvent(events.get(0)).getActivityTaskScheduledEventAttributes()));
  }

  private PollActivityTaskQueueResponse activityTaskResponse(ExecutionKey key, Activities.Started started) {
    ActivityInfo a = started.activity();
    List<HistoryEvent> scheduledEvents = readEvents(key, a.scheduledEventId, 1);
    if (scheduledEvents.isEmpty() || scheduledEvents.get(0).getEventId() != a.scheduledEventId) {
      throw Errors.internal("scheduled event " + a.scheduledEventId + " of " + key + " is missing", null);
    }
    return activityTask(key, started, scheduledEvents.get(0).getActivityTaskScheduledEventAttributes());
  }

  private static PollActivityTaskQueueResponse activityTask(
      ExecutionKey key, Activities.Started started, ActivityTaskScheduledEventAttributes scheduled) {
    ActivityInfo a = started.activity();
    PollActivityTaskQueueResponse.Builder response =
        PollActivityTaskQueueResponse.newBuilder()
            .setTaskToken(com.google.protobuf.ByteString.copyFrom(started.token().encode()))
            .setWorkflowNamespace(key.namespace())
            .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(started.workflowType()))
            .setWorkflowExecution(execution(key))
            .setActivityType(scheduled.getActivityType())
            .setActivityId(a.activityId)
            .setScheduledTime(Protos.timestamp(a.firstScheduledTime))
            .setCurrentAttemptScheduledTime(Protos.timestamp(a.scheduledTime))
            .setStartedTime(Protos.timestamp(a.startedTime))
            .setAttempt(a.attempt)
            .setScheduleToCloseTimeout(Protos.duration(a.scheduleToCloseMillis))
            .setStartToCloseTimeout(Protos.duration(a.startToCloseMillis))
            .setHeartbeatTimeout(Protos.duration(a.heartbeatMillis))
            .setRetryPolicy(Protos.parse(io.temporal.api.common.v1.RetryPolicy.parser(), a.retryPolicy,
                io.temporal.api.common.v1.RetryPolicy.getDefaultInstance()))
            .setPriority(Protos.priority(a.priority));
    if (scheduled.hasHeader()) {
      response.setHeader(scheduled.getHeader());
    }
    if (scheduled.hasInput()) {
      response.setInput(scheduled.getInput());
    }
    if (a.heartbeatDetails != null) {
      response.setHeartbeatDetails(Protos.parse(Payloads.parser(), a.heartbeatDetails, Payloads.getDefaultInstance()));
    }
    return response.build();
  }

  /** Which activity a completion, failure, cancellation or heartbeat is about. */
  public sealed interface ActivityRef {
    String namespace();

    String workflowId();

    /** A task token handed out with the task. */
    record ByToken(TaskToken token) implements ActivityRef {
      public String namespace() {
        return token.namespace();
      }

      public String workflowId() {
        return token.workflowId();
      }
    }

    /** (workflow id, run id, activity id), for completion from elsewhere. */
    record ById(String namespace, String workflowId, String runId, String activityId) implements ActivityRef {}
  }

  /** A change to one activity; completes once durable, on the thread that wrote it (see {@link #changeThen}). */
  private <R> CompletableFuture<R> onActivity(ActivityRef ref,
      java.util.function.BiFunction<Execution, ActivityInfo, R> body) {
    return shardOf(ref.namespace(), ref.workflowId()).submit(tx -> {
      switch (ref) {
        case ActivityRef.ByToken t -> {
          Execution e = tx.find(new ExecutionKey(t.token().namespace(), t.token().workflowId(), t.token().runId()))
              .orElseThrow(Activities::staleTask);
          return body.apply(e, Activities.requireByToken(e, t.token()));
        }
        case ActivityRef.ById id -> {
          Execution e = tx.require(id.namespace(), id.workflowId(), id.runId());
          return body.apply(e, Activities.requireById(e, id.activityId()));
        }
      }
    });
  }

  public CompletableFuture<Void> completeActivity(ActivityRef ref, Payloads result, String identity) {
    return onActivity(ref, (e, a) -> {
      Activities.complete(e, a, result, identity);
      return null;
    });
  }

  public CompletableFuture<Void> failActivity(ActivityRef ref, io.temporal.api.failure.v1.Failure failure,
      Payloads lastHeartbeatDetails, String identity) {
    return onActivity(ref, (e, a) -> {
      Activities.fail(e, a, failure, lastHeartbeatDetails, identity);
      return null;
    });
  }

  public CompletableFuture<Void> cancelActivity(ActivityRef ref, Payloads details, String identity) {
    return onActivity(ref, (e, a) -> {
      Activities.canceled(e, a, details, identity);
      return null;
    });
  }

  public CompletableFuture<RecordActivityTaskHeartbeatResponse> heartbeat(ActivityRef ref, Payloads details) {
    return onActivity(ref, (e, a) -> {
      Activities.heartbeat(e, a, details);
      return RecordActivityTaskHeartbeatResponse.newBuilder()
          .setCancelRequested(a.cancelRequested)
          .setActivityPaused(a.paused)
          .setActivityReset(a.resetRequested)
          .build();
    });
  }

  // ---- operator actions on activities -------------------------------------------------------

  /** Which pending activities an operator action applies to. */
  public sealed interface ActivitySelector {
    /** The activity with this id. */
    record ById(String activityId) implements ActivitySelector {}

    /** Every pending activity of this type. */
    record ByType(String activityType) implements ActivitySelector {}

    /** Every pending activity. */
    record All() implements ActivitySelector {}
  }

  private <R> List<R> onSelected(String namespace, WorkflowExecution execution, ActivitySelector selector,
      java.util.function.BiFunction<Execution, ActivityInfo, R> body) {
    return change(namespace, execution.getWorkflowId(), tx -> {
      Execution e = tx.require(namespace, execution.getWorkflowId(), execution.getRunId());
      if (!e.state.isRunning()) {
        throw Errors.notFound("workflow execution already completed");
      }
      List<ActivityInfo> selected = e.state.activities.values().stream()
          .filter(a -> switch (selector) {
            case ActivitySelector.ById id -> a.activityId.equals(id.activityId());
            case ActivitySelector.ByType type -> a.activityType.equals(type.activityType());
            case ActivitySelector.All all -> true;
          })
          .toList();
      if (selected.isEmpty()) {
        throw Errors.notFound("Can't find pending activity with such ID or type: " + selector);
      }
      List<R> results = new ArrayList<>();
      for (ActivityInfo a : selected) {
        results.add(body.apply(e, a));
      }
      return results;
    });
  }

  public void pauseActivity(String namespace, WorkflowExecution execution, ActivitySelector selector,
      String identity, String reason) {
    onSelected(namespace, execution, selector, (e, a) -> {
      Activities.pause(e, a, identity, reason);
      log.info("paused activity {} of workflow {} in {} by {}: {}", a.activityId, e.key.workflowId(), namespace, identity, reason);
      return null;
    });
  }

  public void unpauseActivity(String namespace, WorkflowExecution execution, ActivitySelector selector,
      boolean resetAttempts, boolean resetHeartbeat) {
    onSelected(namespace, execution, selector, (e, a) -> {
      Activities.unpause(e, a, resetAttempts, resetHeartbeat);
      return null;
    });
  }

  public void resetActivity(String namespace, WorkflowExecution execution, ActivitySelector selector,
      boolean resetHeartbeat, boolean keepPaused) {
    onSelected(namespace, execution, selector, (e, a) -> {
      Activities.reset(e, a, resetHeartbeat, keepPaused);
      return null;
    });
  }

  public io.temporal.api.activity.v1.ActivityOptions updateActivityOptions(String namespace, WorkflowExecution execution,
      ActivitySelector selector, io.temporal.api.activity.v1.ActivityOptions options, List<String> paths) {
    List<io.temporal.api.activity.v1.ActivityOptions> updated =
        onSelected(namespace, execution, selector, (e, a) -> Activities.updateOptions(e, a, options, paths));
    return updated.get(0);
  }

  // ---- timers -------------------------------------------------------------------------------

  /**
   * Fires a durable timer of a run of this server's shards; a timer whose shard moved on meanwhile
   * is left to the new owner, which loaded it from the store.
   */
  public void fireTimer(TimerRow timer) {
    ExecutionKey key = timer.execution();
    String timerKey = timer.timerKey();
    if (!ownsRun(key.namespace(), key.workflowId())) {
      log.debug("timer {} of {} not fired here: its shard moved to another server", timerKey, key);
      return;
    }
    if (timerKey.startsWith(Children.START_TIMER_PREFIX + ":")
        || timerKey.startsWith(Externals.TIMER_PREFIX + ":")
        || timerKey.equals(Children.PARENT_NOTIFY_TIMER)
        || timerKey.equals(Children.CHILDREN_CLOSE_TIMER)) {
      crossShard.execute(() -> {
        try {
          if (timerKey.equals(Children.PARENT_NOTIFY_TIMER)) {
            notifyParent(key);
          } else if (timerKey.equals(Children.CHILDREN_CLOSE_TIMER)) {
            applyParentClosePolicy(key);
          } else if (timerKey.startsWith(Externals.TIMER_PREFIX + ":")) {
            deliverExternal(key, Long.parseLong(timerKey.substring(Externals.TIMER_PREFIX.length() + 1)));
          } else {
            startChild(key, Long.parseLong(timerKey.substring(Children.START_TIMER_PREFIX.length() + 1)));
          }
        } catch (RuntimeException e) {
          // The timer row stays in the store; try again shortly (and after a restart, in any case).
          log.warn("step {} of {} failed; retrying in {} ms", timerKey, key, CROSS_SHARD_RETRY_MILLIS, e);
          timers.schedule(new TimerRow(key, timerKey, clock.millis() + CROSS_SHARD_RETRY_MILLIS));
        }
      });
      return;
    }
    shardOf(key.namespace(), key.workflowId())
        .submit(tx -> {
          tx.find(key).ifPresent(e -> TimerFiring.fire(tx, e, timer.timerKey()));
          return null;
        })
        .whenComplete((ignored, error) -> {
          if (error != null) {
            log.error("firing timer {} of {} failed; it fires again after a restart", timer.timerKey(), key, error);
          }
        });
  }

  // ---- retention ----------------------------------------------------------------------------

  /**
   * Deletes a run that closed before {@code closedBeforeMillis}, with its history; false when it is
   * gone already, still running, or closed later (checked in its shard, so it cannot race a change).
   */
  public boolean purge(ExecutionKey key, long closedBeforeMillis) {
    if (!ownsRun(key.namespace(), key.workflowId())) {
      return false;
    }
    return change(key.namespace(), key.workflowId(), tx -> {
      Optional<Execution> found = tx.find(key);
      if (found.isEmpty()) {
        return false;
      }
      ExecutionState s = found.get().state;
      if (s.isRunning() || s.closeTime == 0 || s.closeTime >= closedBeforeMillis) {
        return false;
      }
      found.get().purge = true;
      found.get().markChanged();
      return true;
    });
  }

  // ---- child workflows ----------------------------------------------------------------------

  /** What starting a child takes: the new run, its id policies, and its parent close policy. */
  private record ChildStart(NewRun run, WorkflowStarts.Policies policies, int parentClosePolicy) {}

  /** The child {@code parent} initiated with event {@code initiatedId}, if it still waits to be started. */
  private static Optional<ChildStart> childToStart(ExecutionKey parentKey, ExecutionState parent, long initiatedId) {
    ExecutionState.ChildInfo child = parent.children.get(initiatedId);
    if (!parent.isRunning() || child == null || !child.runId.isEmpty()) {
      return Optional.empty();
    }
    var command = Children.command(child);
    NewRun run = new NewRun(child.namespace, child.workflowId, child.workflowType,
        command.getTaskQueue().getName(), command.hasInput() ? command.getInput() : null,
        Protos.millis(command.getWorkflowExecutionTimeout()), Protos.millis(command.getWorkflowRunTimeout()),
        Protos.millis(command.getWorkflowTaskTimeout()), "parent " + parentKey.workflowId(),
        parentKey.runId() + ":" + initiatedId,
        command.hasRetryPolicy() ? ActivityRetries.withDefaults(command.getRetryPolicy()) : null,
        command.hasMemo() ? command.getMemo() : null,
        command.hasSearchAttributes() ? command.getSearchAttributes() : null,
        command.hasHeader() ? command.getHeader() : null,
        command.hasPriority() ? command.getPriority() : null, 0, "", "", 0,
        ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED, null, null, 1,
        new NewRun.ParentLink(parentKey.namespace(), parentKey.workflowId(), parentKey.runId(), initiatedId));
    WorkflowStarts.Policies policies = WorkflowStarts.Policies.resolve(command.getWorkflowIdReusePolicy(),
        WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED,
        WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL);
    return Optional.of(new ChildStart(run, policies, child.parentClosePolicy));
  }

  /** The committed state of a run, read from the store (another server's shard asks about it). */
  private ExecutionState committedState(ExecutionKey key) {
    ExecutionRow row = store.findExecution(key)
        .orElseThrow(() -> Errors.notFound("workflow execution not found: " + key));
    return StateCodec.decode(row.state());
  }

  /** Starts a child on this server's shard of its id; the child's run id, or empty when the id is in use. */
  private Optional<String> startChildHere(ChildStart start) {
    NewRun run = start.run();
    try {
      return Optional.of(change(run.namespace(), run.workflowId(),
          tx -> WorkflowStarts.start(tx, run, start.policies(), null)).response().getRunId());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != io.grpc.Status.Code.ALREADY_EXISTS) {
        throw e;
      }
      return Optional.empty();
    }
  }

  /**
   * Starts, on this server's shard, the child that another server's run initiated, as that run's
   * committed state describes it; the child's run id, or empty when its id is in use.
   */
  public Optional<String> startChildFor(ExecutionKey parentKey, long initiatedId) {
    ChildStart start = childToStart(parentKey, committedState(parentKey), initiatedId)
        .orElseThrow(() -> Errors.failedPrecondition("child " + initiatedId + " of " + parentKey
            + " is not waiting to be started"));
    return startChildHere(start);
  }

  /** Starts the child a parent initiated, then records the outcome on the parent. */
  private void startChild(ExecutionKey parentKey, long initiatedId) {
    String timerKey = Children.startTimerKey(initiatedId);
    Optional<ChildStart> toStart = change(parentKey.namespace(), parentKey.workflowId(), tx -> {
      Optional<Execution> found = tx.find(parentKey);
      if (found.isEmpty()) {
        return Optional.<ChildStart>empty();
      }
      Optional<ChildStart> start = childToStart(parentKey, found.get().state, initiatedId);
      if (start.isEmpty()) {
        found.get().deleteTimer(timerKey);
      }
      return start;
    });
    if (toStart.isEmpty()) {
      return;
    }
    NewRun run = toStart.get().run();
    Optional<String> childRunId = ownsRun(run.namespace(), run.workflowId())
        ? startChildHere(toStart.get())
        : peers.startChild(parentKey, initiatedId, run.namespace(), run.workflowId());
    if (childRunId.isPresent()) {
      log.info("started child workflow {} run {} of {} in {}", run.workflowId(), childRunId.get(),
          parentKey.workflowId(), parentKey.namespace());
    } else {
      log.info("child workflow {} of {} in {} not started: its id is in use", run.workflowId(), parentKey.workflowId(),
          parentKey.namespace());
    }
    String started = childRunId.orElse(null);
    boolean parentClosed = change(parentKey.namespace(), parentKey.workflowId(), tx -> {
      Optional<Execution> found = tx.find(parentKey);
      if (found.isEmpty()) {
        return true;
      }
      Execution parent = found.get();
      ExecutionState.ChildInfo child = parent.state.children.get(initiatedId);
      if (parent.state.isRunning() && child != null && child.runId.isEmpty()) {
        if (started == null) {
          Children.startFailed(parent, child);
        } else {
          Children.started(parent, child, started);
        }
      }
      parent.deleteTimer(timerKey);
      return !parent.state.isRunning();
    });
    if (parentClosed && started != null) {
      // The parent closed while its child was being started: the close policy reaches this child too.
      applyPolicyToChild(parentKey, run.namespace(), run.workflowId(), started,
          Children.policy(toStart.get().parentClosePolicy()));
    }
  }

  /** Delivers, on this server's shard, a signal or cancel request to its target; the run that got it, or empty. */
  private Optional<String> deliverHere(ExecutionKey sourceKey, ExecutionState.ExternalInfo x, String requestId) {
    return Optional.ofNullable(change(x.namespace, x.workflowId, tx -> {
      String runId = x.runId;
      if (runId.isEmpty()) {
        Optional<String> current = tx.currentRunId(x.namespace, x.workflowId);
        if (current.isEmpty()) {
          return null;
        }
        runId = current.get();
      }
      Optional<Execution> target = tx.find(new ExecutionKey(x.namespace, x.workflowId, runId));
      boolean delivered = target.isPresent() && Externals.deliver(target.get(), sourceKey.workflowId(),
          sourceKey.runId(), requestId, x, "workflow " + sourceKey.workflowId());
      return delivered ? runId : null;
    }));
  }

  /**
   * Delivers, on this server's shard, the signal or cancel request another server's run initiated,
   * as that run's committed state describes it; the run that got it, or empty.
   */
  public Optional<String> deliverExternalFor(ExecutionKey sourceKey, long initiatedId) {
    ExecutionState source = committedState(sourceKey);
    ExecutionState.ExternalInfo x = source.externals.get(initiatedId);
    if (x == null) {
      throw Errors.failedPrecondition("request " + initiatedId + " of " + sourceKey + " is not waiting to be delivered");
    }
    return deliverHere(sourceKey, x, Externals.requestId(source, x));
  }

  /** Delivers a signal or cancel request a run sent to another workflow, then records the outcome. */
  private void deliverExternal(ExecutionKey sourceKey, long initiatedId) {
    String timerKey = Externals.timerKey(initiatedId);
    record Pending(ExecutionState.ExternalInfo external, String requestId) {}
    Optional<Pending> pending = change(sourceKey.namespace(), sourceKey.workflowId(), tx -> {
      Optional<Execution> found = tx.find(sourceKey);
      if (found.isEmpty()) {
        return Optional.<Pending>empty();
      }
      Execution source = found.get();
      ExecutionState.ExternalInfo x = source.state.externals.get(initiatedId);
      if (!source.state.isRunning() || x == null) {
        source.deleteTimer(timerKey);
        return Optional.<Pending>empty();
      }
      return Optional.of(new Pending(x, Externals.requestId(source.state, x)));
    });
    if (pending.isEmpty()) {
      return;
    }
    ExecutionState.ExternalInfo x = pending.get().external();
    String targetRunId = (ownsRun(x.namespace, x.workflowId)
        ? deliverHere(sourceKey, x, pending.get().requestId())
        : peers.deliverExternal(sourceKey, initiatedId, x.namespace, x.workflowId)).orElse(null);
    log.info("{} from {} to workflow {} in {}: {}", x.cancel ? "cancel request" : "signal", sourceKey.workflowId(),
        x.workflowId, x.namespace, targetRunId == null ? "no such running workflow" : "delivered");
    change(sourceKey.namespace(), sourceKey.workflowId(), tx -> {
      tx.find(sourceKey).ifPresent(source -> {
        ExecutionState.ExternalInfo still = source.state.externals.get(initiatedId);
        if (source.state.isRunning() && still != null) {
          Externals.delivered(source, still, targetRunId != null, targetRunId);
        }
        source.deleteTimer(timerKey);
      });
      return null;
    });
  }

  /** The closing event of a closed run, from the history cache or the store. */
  private HistoryEvent closeEvent(ExecutionKey key, long closeEventId) {
    List<HistoryEvent> close = readEvents(key, closeEventId, 1);
    if (close.isEmpty()) {
      throw Errors.internal("closing event " + closeEventId + " of " + key + " is missing", null);
    }
    return close.get(0);
  }

  /** Records on a parent of this server's shards that its child closed, if the parent still waits for it. */
  private void recordChildClosed(NewRun.ParentLink link, ExecutionKey childKey, HistoryEvent close) {
    ExecutionKey parentKey = new ExecutionKey(link.namespace(), link.workflowId(), link.runId());
    change(parentKey.namespace(), parentKey.workflowId(), tx -> {
      tx.find(parentKey).ifPresent(parent -> {
        ExecutionState.ChildInfo child = parent.state.children.get(link.initiatedEventId());
        if (parent.state.isRunning() && child != null && child.workflowId.equals(childKey.workflowId())) {
          Children.closed(parent, child, close);
        }
      });
      return null;
    });
  }

  /** Records on a parent of this server's shards that a child of another server's shards closed. */
  public void notifyParentFor(ExecutionKey childKey) {
    ExecutionState s = committedState(childKey);
    if (s.parentWorkflowId == null || s.isRunning()) {
      throw Errors.failedPrecondition(childKey + " has no parent to notify");
    }
    recordChildClosed(Children.parentOf(s), childKey, closeEvent(childKey, s.nextEventId - 1));
  }

  /** A child's chain closed: records it on the parent, if the parent still waits for it. */
  private void notifyParent(ExecutionKey childKey) {
    record Notice(NewRun.ParentLink parent, long closeEventId) {}
    Optional<Notice> notice = change(childKey.namespace(), childKey.workflowId(), tx -> {
      Optional<Execution> found = tx.find(childKey);
      if (found.isEmpty()) {
        return Optional.<Notice>empty();
      }
      ExecutionState s = found.get().state;
      if (s.parentWorkflowId == null || s.isRunning()) {
        found.get().deleteTimer(Children.PARENT_NOTIFY_TIMER);
        return Optional.<Notice>empty();
      }
      return Optional.of(new Notice(Children.parentOf(s), s.nextEventId - 1));
    });
    if (notice.isEmpty()) {
      return;
    }
    NewRun.ParentLink link = notice.get().parent();
    if (ownsRun(link.namespace(), link.workflowId())) {
      recordChildClosed(link, childKey, closeEvent(childKey, notice.get().closeEventId()));
    } else {
      peers.notifyParent(childKey, link.namespace(), link.workflowId());
    }
    change(childKey.namespace(), childKey.workflowId(), tx -> {
      tx.find(childKey).ifPresent(child -> child.deleteTimer(Children.PARENT_NOTIFY_TIMER));
      return null;
    });
  }

  /**
   * Terminates or cancels (by its policy) the child chain started as {@code firstRunId}, if it still
   * runs; at the server that owns it.
   */
  public void applyPolicyToChild(ExecutionKey parentKey, String namespace, String workflowId, String firstRunId,
      ParentClosePolicy policy) {
    if (policy == ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON) {
      return;
    }
    if (!ownsRun(namespace, workflowId)) {
      peers.applyPolicyToChild(parentKey, namespace, workflowId, firstRunId, policy);
      return;
    }
    change(namespace, workflowId, tx -> {
      Optional<String> current = tx.currentRunId(namespace, workflowId);
      if (current.isEmpty()) {
        return null;
      }
      Execution e = tx.require(namespace, workflowId, current.get());
      if (!e.state.isRunning() || !e.state.firstRunId.equals(firstRunId)) {
        return null;
      }
      String reason = "by parent close policy: parent " + parentKey.workflowId() + " closed";
      if (policy == ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
        appendCancelRequest(e, reason, "history-service");
      } else {
        Runs.terminate(e, reason, null, "history-service");
      }
      log.info("{} child workflow {} in {}: {}", policy, workflowId, namespace, reason);
      return null;
    });
  }

  /** A parent closed: terminates or cancels the children its policy reaches. */
  private void applyParentClosePolicy(ExecutionKey parentKey) {
    List<ExecutionState.ChildInfo> open = change(parentKey.namespace(), parentKey.workflowId(), tx ->
        tx.find(parentKey).map(parent -> List.copyOf(parent.state.children.values())).orElse(List.of()));
    for (ExecutionState.ChildInfo child : open) {
      if (!child.runId.isEmpty()) {
        applyPolicyToChild(parentKey, child.namespace, child.workflowId, child.runId, Children.policy(child));
      }
    }
    change(parentKey.namespace(), parentKey.workflowId(), tx -> {
      tx.find(parentKey).ifPresent(parent -> {
        parent.state.children.clear();
        parent.markChanged();
        parent.deleteTimer(Children.CHILDREN_CLOSE_TIMER);
      });
      return null;
    });
  }

  // ---- history ------------------------------------------------------------------------------

  /** Resolves an empty run id to the current run; NOT_FOUND when there is none. */
  public ExecutionKey resolve(String namespace, WorkflowExecution execution) {
    String runId = execution.getRunId();
    if (runId.isEmpty()) {
      runId = cache.currentRunId(namespace, execution.getWorkflowId())
          .or(() -> store.findCurrentRunId(namespace, execution.getWorkflowId()))
          .orElseThrow(() -> Errors.notFound("workflow execution not found: workflowId=" + execution.getWorkflowId()));
    }
    return new ExecutionKey(namespace, execution.getWorkflowId(), runId);
  }

  /**
   * The run a request names when that takes no store read: its run id, or the workflow's current
   * run when this server holds it in memory. Empty otherwise (then {@link #resolve} reads the store).
   */
  public Optional<ExecutionKey> resolveInMemory(String namespace, WorkflowExecution execution) {
    String runId = execution.getRunId();
    if (!runId.isEmpty()) {
      return Optional.of(new ExecutionKey(namespace, execution.getWorkflowId(), runId));
    }
    return cache.currentRunId(namespace, execution.getWorkflowId())
        .map(current -> new ExecutionKey(namespace, execution.getWorkflowId(), current));
  }

  /** The run's status and last event id when its events are held in memory; empty otherwise. */
  public Optional<RunHead> headInMemory(ExecutionKey key) {
    return cache.head(key).map(cached -> new RunHead(cached.status(), cached.lastEventId()));
  }

  /** Up to {@code max} events from {@code fromEventId}, serialized, when memory holds them; empty otherwise. */
  public Optional<List<EventRow>> eventsInMemory(ExecutionKey key, long fromEventId, int max) {
    return cache.eventsFrom(key, fromEventId, max);
  }

  /**
   * The run's status and last event id; empty when the run does not exist. Served from memory for
   * recently active runs, so long-polling clients do not read the run back at every change.
   */
  public Optional<RunHead> head(ExecutionKey key) {
    Optional<HistoryCache.Head> cached = cache.head(key);
    if (cached.isPresent()) {
      return Optional.of(new RunHead(cached.get().status(), cached.get().lastEventId()));
    }
    return store.findExecution(key).map(row -> {
      long length = row.visibility().historyLength();
      List<EventRow> heldBack = heldBackEvents(key, length + 1);
      return new RunHead(row.visibility().status(), heldBack.isEmpty() ? length : heldBack.getLast().eventId());
    });
  }

  /** Up to {@code max} events from {@code fromEventId}, ascending. */
  public List<HistoryEvent> readEvents(ExecutionKey key, long fromEventId, int max) {
    List<HistoryEvent> events = new ArrayList<>();
    for (EventRow row : readEventRows(key, fromEventId, max)) {
      events.add(parseEvent(row));
    }
    return events;
  }

  /** Up to {@code max} events from {@code fromEventId}, ascending, serialized: for responses ({@link HistoryBytes}). */
  public List<EventRow> readEventRows(ExecutionKey key, long fromEventId, int max) {
    return cache.eventsFrom(key, fromEventId, max).orElseGet(() -> storedEvents(key, fromEventId, max));
  }

  /**
   * Completes once the run has committed an event after {@code lastSeenEventId} (with {@code
   * closeOnly}: once it has closed), or has closed.
   */
  public CompletableFuture<Void> nextChange(ExecutionKey key, long lastSeenEventId, boolean closeOnly) {
    return waiters.next(key, lastSeenEventId, closeOnly);
  }

  /** Runs some reader waits on with {@link #nextChange}, for tests and diagnostics. */
  public int runsWaitedOn() {
    return waiters.runsWaitedOn();
  }

  /** Ends a wait begun with {@link #nextChange}, whether it completed or not. */
  public void stopWaiting(ExecutionKey key, CompletableFuture<Void> change) {
    waiters.forget(key, change);
  }

  // ---- queries ------------------------------------------------------------------------------

  public WorkflowQueryResult query(String namespace, WorkflowExecution execution,
      io.temporal.api.query.v1.WorkflowQuery query, long timeoutMillis) {
    record Routed(QueryRegistry.PendingQuery pending, String taskQueue, boolean direct) {}
    Routed routed =
        change(namespace, execution.getWorkflowId(), tx -> {
          Execution e = tx.require(namespace, execution.getWorkflowId(), execution.getRunId());
          ExecutionState s = e.state;
          if (s.lastCompletedWftStartedId == 0 && !s.isRunning()) {
            throw Errors.workflowNotReady("workflow closed before a workflow task completed");
          }
          QueryRegistry.PendingQuery pending = queries.register(e.key, query);
          boolean direct = !s.isRunning() || (s.workflowTask == null && s.lastCompletedWftStartedId > 0);
          if (!direct) {
            queries.waitForTask(pending);
          }
          return new Routed(pending, s.taskQueue, direct);
        });
    if (routed.direct()) {
      dispatchQueryTask(routed.taskQueue(), routed.pending());
    }
    try {
      return routed.pending().answer().get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw io.grpc.Status.DEADLINE_EXCEEDED.withDescription("query timed out: no worker answered").asRuntimeException();
    } catch (ExecutionException e) {
      throw Errors.internal("query failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable("interrupted", e);
    } finally {
      queries.forget(routed.pending());
    }
  }

  private void dispatchQueryTask(String taskQueue, QueryRegistry.PendingQuery query) {
    if (query.answer().isDone()) {
      return;
    }
    // Query-only tasks ride the workflow queue as rows that never touch the store, told apart by
    // a negative id.
    addTask(new TaskRow(query.execution(), TaskKind.WORKFLOW, taskQueue,
        -QueryRegistry.numericId(query.id()), 1, 1, "", 0f, clock.millis()));
  }

  private Optional<PollWorkflowTaskQueueResponse> queryTask(TaskRow task) {
    QueryRegistry.PendingQuery pending = queries.find(Long.toString(-task.scheduledEventId()));
    if (pending == null || pending.answer().isDone()) {
      return Optional.empty();
    }
    ExecutionKey key = task.execution();
    Optional<ExecutionRow> row = store.findExecution(key);
    if (row.isEmpty()) {
      return Optional.empty();
    }
    ExecutionState s = StateCodec.decode(row.get().state());
    TaskToken token = new TaskToken(TaskToken.Kind.QUERY_TASK, key.namespace(), key.workflowId(), key.runId(), 0, 0, 1, pending.id());
    PollWorkflowTaskQueueResponse.Builder response = HistoryBytes.set(PollWorkflowTaskQueueResponse.newBuilder(),
        PollWorkflowTaskQueueResponse.HISTORY_FIELD_NUMBER,
        readHistory(key, 1, Math.min(s.nextEventId - 1, WORKFLOW_TASK_PAGE_EVENTS), false).orElseThrow());
    return Optional.of(
        response
            .setTaskToken(com.google.protobuf.ByteString.copyFrom(token.encode()))
            .setWorkflowExecution(execution(key))
            .setWorkflowType(io.temporal.api.common.v1.WorkflowType.newBuilder().setName(s.workflowType))
            .setPreviousStartedEventId(s.lastCompletedWftStartedId)
            .setStartedEventId(0)
            .setAttempt(1)
            .setNextPageToken(s.nextEventId - 1 > WORKFLOW_TASK_PAGE_EVENTS
                ? com.google.protobuf.ByteString.copyFrom(new dev.perdura.server.common.HistoryPageToken(
                    key.runId(), WORKFLOW_TASK_PAGE_EVENTS + 1, s.nextEventId - 1).encode())
                : com.google.protobuf.ByteString.EMPTY)
            .setQuery(pending.query())
            .setWorkflowExecutionTaskQueue(
                io.temporal.api.taskqueue.v1.TaskQueue.newBuilder().setName(s.taskQueue)
                    .setKind(io.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .build());
  }

  public void answerQuery(TaskToken token, RespondQueryTaskCompletedRequest request) {
    if (queries.find(token.queryId()) == null) {
      throw Errors.notFound("query " + token.queryId() + " is no longer waiting for an answer");
    }
    WorkflowQueryResult.Builder result = WorkflowQueryResult.newBuilder()
        .setResultType(request.getCompletedType())
        .setErrorMessage(request.getErrorMessage());
    if (request.hasQueryResult()) {
      result.setAnswer(request.getQueryResult());
    }
    if (request.hasFailure()) {
      result.setFailure(request.getFailure());
    }
    queries.answer(token.queryId(), result.build());
  }

  @Override
  public void close() {
    timers.close();
    crossShard.shutdownNow();
    try {
      if (!crossShard.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("cross-shard steps still running at shutdown; their timers run them again at the next start");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (int i = 0; i < shards.length(); i++) {
      HistoryShard shard = shards.getAndSet(i, null);
      if (shard != null) {
        shard.close();
      }
    }
    waiters.wakeAll();
  }

  static HistoryEvent.Builder timerFired(ExecutionState.TimerInfo timer) {
    return HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_TIMER_FIRED)
        .setTimerFiredEventAttributes(
            TimerFiredEventAttributes.newBuilder().setTimerId(timer.timerId).setStartedEventId(timer.startedEventId));
  }

  static HistoryEvent.Builder signaled(SignalWorkflowExecutionRequest request) {
    WorkflowExecutionSignaledEventAttributes.Builder attributes =
        WorkflowExecutionSignaledEventAttributes.newBuilder()
            .setSignalName(request.getSignalName())
            .setIdentity(request.getIdentity());
    if (request.hasInput()) {
      attributes.setInput(request.getInput());
    }
    if (request.hasHeader()) {
      attributes.setHeader(request.getHeader());
    }
    return HistoryEvent.newBuilder()
        .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        .setWorkflowExecutionSignaledEventAttributes(attributes);
  }
}
