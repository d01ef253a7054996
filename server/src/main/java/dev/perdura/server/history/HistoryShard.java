package dev.perdura.server.history;

import dev.perdura.server.common.Errors;
import dev.perdura.server.common.LoopHandoff;
import dev.perdura.server.common.WakeAfterRead;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import dev.perdura.server.store.VisibilityRow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serializes every change to the runs of one shard and commits them in batches (group commit): one
 * batch at a time, whoever computes it drains all queued changes, computes each on working copies,
 * writes the successful ones in one store transaction, then runs their effects and answers their
 * callers. A caller is answered only after its change is durable; the answers of calls that came
 * on network threads go to those threads together, one task per thread ({@link LoopHandoff}).
 *
 * <p>The shard's writer thread computes and writes every batch; under load a batch gathers what
 * every caller queued while the previous one was written and while the writer woke up. (Callers
 * once computed a batch themselves while changes came one at a time; under load that sent calls to
 * virtual threads that mostly found the shard busy, and a sequential workflow's step was no faster
 * for it: docs/performance.md, "One writer per shard again".)
 *
 * <p><b>Writes held back.</b> A change that only starts a workflow task for a poll ({@link
 * Tx#mayHoldBack}) is not written: the poller is answered at once, and the run's newest row, with
 * the events since its stored one, stays in memory until the run's next change, whose write
 * carries them (a task's start is always followed by its completion, failure or timeout). A crash
 * forgets such a start, and the stored run still has the task queued, so it is dispatched again
 * after the restart; the first worker's completion is then refused, since its token names the
 * start that was forgotten. Closing the shard writes what is held back. At most {@value
 * #MAX_HELD_BACK} runs are held back at once; past that, starts are written as before.
 *
 * <p>Committed rows are cached (bounded, least recently used first out) so the hot path does not
 * read state back from the store. Rows of closed runs, which are seldom changed again, have a much
 * smaller cache of their own, so they do not stay in memory long enough to reach the garbage
 * collector's old generation (see {@link HistoryCache}).
 */
final class HistoryShard implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HistoryShard.class);
  private static final int MAX_BATCH = 512;
  private static final int CACHE_SIZE = 4096;
  private static final int CLOSED_CACHE_SIZE = 256;
  private static final int MAX_HELD_BACK = 4096;

  private final int index;
  private final Store store;
  /** The lease this shard's commits are fenced by; null when the store is this server's alone. */
  private final Lease lease;
  private final Clock clock;
  private final CommitListener listener;
  private final LinkedBlockingQueue<Change<?>> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  /**
   * Held by whoever computes and writes a batch or reads what a batch owns: the writer thread, the
   * start's scan of workflow ids, and the close that writes what is held back.
   */
  private final ReentrantLock processing = new ReentrantLock();
  private volatile boolean running = true;
  private final Timer commitTime;
  private final DistributionSummary batchChanges;
  private final Counter commitFailures;
  private final Counter heldBackChanges;

  // Owned by the holder of the processing lock only.
  private final Map<ExecutionKey, ExecutionRow> rows = lru(CACHE_SIZE);
  private final Map<ExecutionKey, ExecutionRow> closedRows = lru(CLOSED_CACHE_SIZE);
  private final Map<String, String> currentRuns = lru(CACHE_SIZE);
  private final List<Change<?>> drained = new ArrayList<>();
  private final StateCodec.Encoder encoder = new StateCodec.Encoder();
  private final Map<ExecutionKey, ExecutionRow> batchRows = new HashMap<>();
  private final Map<String, String> batchCurrentRuns = new HashMap<>();
  /** Runs deleted by the batch being computed (retention): gone for the batch's later changes. */
  private final java.util.Set<ExecutionKey> batchPurged = new java.util.HashSet<>();
  /**
   * Runs whose latest changes are held back instead of written, by run. Changed only by the holder
   * of the processing lock; read by others for events not yet in the store ({@link #heldBackEvents}).
   */
  private final Map<ExecutionKey, HeldBack> heldBack = new java.util.concurrent.ConcurrentHashMap<>();
  /** Runs the batch being computed held back; they join {@link #heldBack} once the batch is written. */
  private final Map<ExecutionKey, HeldBack> batchHeldBack = new HashMap<>();
  /** Runs held back before whose write in the batch being computed carries what was held. */
  private final java.util.Set<ExecutionKey> batchReleased = new java.util.HashSet<>();

  /**
   * A run whose latest changes are not written yet.
   *
   * @param row the newest state and visibility, at the stored row's version
   * @param storedVisibility the visibility columns of the stored row
   * @param storedPending whether the stored row is marked pending
   * @param events the events appended since the stored row, which the next write carries
   * @param pending whether the newest state holds a queued task or an armed timer
   */
  record HeldBack(ExecutionRow row, VisibilityRow storedVisibility, boolean storedPending, List<EventRow> events,
      boolean pending) {}

  /**
   * Task and timer rows that a server before the current state format wrote for runs of this shard,
   * by run: loaded at start; a run's are folded into its state when it next changes ({@link Tx#find}).
   */
  private final Map<ExecutionKey, LegacyRows> legacyRows = new java.util.concurrent.ConcurrentHashMap<>();

  /** Which runs are this shard's, for the scan that fills {@link #knownIds}; null: no filter. */
  private java.util.function.Predicate<ExecutionKey> onThisShard;
  /** The workflow ids with a current run, once a scan filled it; null before. */
  private volatile KnownWorkflowIds knownIds;
  /** The filter a scan is filling now (at start, or a larger one); commits feed it too. */
  private volatile KnownWorkflowIds fillingIds;
  /** The thread that fills {@link #fillingIds}; started under {@link #processing}, stopped at close. */
  private volatile Thread idScan;

  /** The old-format task and timer rows of one run. */
  record LegacyRows(List<TaskRow> tasks, List<TimerRow> timers) {
    static final LegacyRows NONE = new LegacyRows(List.of(), List.of());
  }

  private record Change<R>(Function<Tx, R> body, CompletableFuture<R> result) {}

  /** Sees each change before it is written and each write once it is durable. */
  interface CommitListener {
    /**
     * A change computed without error, before its runs are turned into writes: the listener may
     * still add to it (start a task it queues for a poll that waits). Undo through {@link
     * Tx#ifNotWritten}.
     */
    void prepared(Tx tx);

    /**
     * A write is durable; callers are answered after this. {@code execution} is the working copy it
     * was made from: its new events, parsed, and what it did to the run's tasks and timers.
     */
    void committed(ExecutionWrite write, Execution execution);
  }

  HistoryShard(int index, Store store, Lease lease, Clock clock, MeterRegistry metrics, CommitListener listener) {
    this.index = index;
    String shard = Integer.toString(index);
    this.commitTime = Timer.builder("perdura.history.commit")
        .description("Store transactions of a history shard: one per batch of changes")
        .tag("shard", shard).register(metrics);
    this.batchChanges = DistributionSummary.builder("perdura.history.batch.changes")
        .description("Changes computed together and written in one transaction (group commit)")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32)
        .tag("shard", shard).register(metrics);
    this.commitFailures = Counter.builder("perdura.history.commit.failures")
        .description("Batches whose transaction failed; their callers got UNAVAILABLE and nothing was applied")
        .tag("shard", shard).register(metrics);
    this.heldBackChanges = Counter.builder("perdura.history.changes.held.back")
        .description("Workflow task starts kept in memory instead of written: the run's next write carries them")
        .tag("shard", shard).register(metrics);
    this.store = store;
    this.lease = lease;
    this.clock = clock;
    this.listener = listener;
    this.writer = Thread.ofPlatform().name("history-shard-" + index).daemon().unstarted(this::run);
  }

  /**
   * Keeps a filter of the shard's workflow ids that have a current run (see {@link
   * KnownWorkflowIds}), filled from the store once the shard starts. Called before {@link #start}.
   */
  void learnWorkflowIds(java.util.function.Predicate<ExecutionKey> onThisShard) {
    this.onThisShard = onThisShard;
  }

  /** Starts writing; changes submitted before wait in the queue. */
  void start() {
    writer.start();
    if (onThisShard != null) {
      processing.lock();
      try {
        scanWorkflowIds(0);
      } finally {
        processing.unlock();
      }
    }
  }

  /** Fills a new filter from the store on a thread of its own; the caller holds {@link #processing}. */
  private void scanWorkflowIds(long expected) {
    KnownWorkflowIds next = KnownWorkflowIds.sizedFor(index, expected);
    // Before the scan reads anything: a commit from now on adds its ids to the new filter, and
    // whatever was committed before is in the store the scan reads.
    fillingIds = next;
    idScan = Thread.ofVirtual().name("history-shard-" + index + "-ids").start(() -> {
      try {
        next.fill(store, onThisShard);
      } catch (RuntimeException e) {
        log.warn("history shard {}: could not read the workflow ids with a current run; starts look each up "
            + "in the store", index, e);
        fillingIds = null;
        return;
      }
      if (!Thread.currentThread().isInterrupted()) {
        knownIds = next;
      }
      fillingIds = null;
    });
  }

  /** Whether the filter of workflow ids with a current run is filled and answers. */
  boolean knowsWorkflowIds() {
    return knownIds != null;
  }

  /** A commit made these workflow ids (current keys) current; the caller holds {@link #processing}. */
  private void madeCurrent(java.util.Collection<String> currentKeys) {
    // The filling one first: a scan that ends publishes its filter before it clears fillingIds, so
    // an id is added either to the filling filter or to the one that replaced it.
    KnownWorkflowIds filling = fillingIds;
    KnownWorkflowIds known = knownIds;
    for (String key : currentKeys) {
      if (known != null) {
        known.add(key);
      }
      if (filling != null) {
        filling.add(key);
      }
    }
    if (running && known != null && filling == null && known.full() && !idScan.isAlive()) {
      if (known.canGrow()) {
        log.info("history shard {}: more workflow ids than its filter was sized for; filling a larger one",
            index);
        scanWorkflowIds(known.approximateIds());
      } else {
        log.info("history shard {}: more than {} workflow ids; starts look each up in the store", index,
            KnownWorkflowIds.MAX_IDS);
        knownIds = null;
      }
    }
  }

  /**
   * Queues a change for the writer thread; the future completes once it is durable (or failed,
   * with nothing written). Called from a network thread, the writer is woken once that thread has
   * handled all it read ({@link WakeAfterRead}), so the changes of one read share a commit.
   */
  <R> CompletableFuture<R> submit(Function<Tx, R> body) {
    CompletableFuture<R> result = new CompletableFuture<>();
    if (!running) {
      result.completeExceptionally(Errors.unavailable("server is shutting down", null));
      return result;
    }
    queue.add(new Change<>(body, result));
    WakeAfterRead.unpark(writer);
    return result;
  }

  static String currentKey(String namespace, String workflowId) {
    return namespace + '\u0000' + workflowId;
  }

  /** Called before {@link #start}. */
  void adoptLegacyRows(Map<ExecutionKey, LegacyRows> rows) {
    legacyRows.putAll(rows);
  }

  LegacyRows legacyRows(ExecutionKey key) {
    return legacyRows.getOrDefault(key, LegacyRows.NONE);
  }

  /** The run's held-back changes, when the change being computed should start from them. */
  Optional<HeldBack> heldBack(ExecutionKey key) {
    HeldBack held = batchHeldBack.get(key);
    if (held != null) {
      return Optional.of(held);
    }
    if (batchReleased.contains(key) || batchPurged.contains(key)) {
      return Optional.empty();
    }
    return Optional.ofNullable(heldBack.get(key));
  }

  /**
   * Events of the run from {@code fromEventId} on that are held back, not yet in the store; any
   * thread. Empty when none are (or they have been written since).
   */
  List<EventRow> heldBackEvents(ExecutionKey key, long fromEventId) {
    HeldBack held = heldBack.get(key);
    if (held == null) {
      return List.of();
    }
    List<EventRow> events = new ArrayList<>();
    for (EventRow event : held.events()) {
      if (event.eventId() >= fromEventId) {
        events.add(event);
      }
    }
    return events;
  }

  Optional<ExecutionRow> readRow(ExecutionKey key) {
    if (batchPurged.contains(key)) {
      return Optional.empty();
    }
    ExecutionRow row = batchRows.get(key);
    if (row == null) {
      row = rows.get(key);
    }
    if (row == null) {
      row = closedRows.get(key);
    }
    if (row == null) {
      row = store.findExecutionToWrite(key).orElse(null);
      if (row != null) {
        cache(row);
      }
    }
    return Optional.ofNullable(row);
  }

  private void cache(ExecutionRow row) {
    if (row.visibility().status() == Statuses.RUNNING) {
      rows.put(row.key(), row);
      closedRows.remove(row.key());
    } else {
      rows.remove(row.key());
      closedRows.put(row.key(), row);
    }
  }

  private void uncache(ExecutionKey key) {
    rows.remove(key);
    closedRows.remove(key);
  }

  Optional<String> readCurrentRunId(String namespace, String workflowId) {
    String key = currentKey(namespace, workflowId);
    String runId = batchCurrentRuns.get(key);
    if (runId == null) {
      runId = currentRuns.get(key);
    }
    KnownWorkflowIds known = knownIds;
    if (runId == null && known != null && !known.mayHaveRun(key)) {
      return Optional.empty();
    }
    if (runId == null) {
      runId = store.findCurrentRunIdToWrite(namespace, workflowId).orElse(null);
      if (runId != null) {
        currentRuns.put(key, runId);
      }
    }
    // A run this batch deleted leaves its workflow id without a current run.
    if (runId != null && batchPurged.contains(new ExecutionKey(namespace, workflowId, runId))) {
      return Optional.empty();
    }
    return Optional.ofNullable(runId);
  }

  private void run() {
    while (running || !queue.isEmpty()) {
      if (queue.isEmpty()) {
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(200));
        if (Thread.interrupted()) {
          break;
        }
        continue;
      }
      processing.lock();
      try {
        processQueued();
      } finally {
        processing.unlock();
      }
    }
    for (Change<?> change : queue) {
      change.result().completeExceptionally(Errors.unavailable("server is shutting down", null));
    }
  }

  /** Computes and writes what is queued, up to one batch; the caller holds {@link #processing}. */
  private void processQueued() {
    queue.drainTo(drained, MAX_BATCH);
    if (drained.isEmpty()) {
      return;
    }
    try {
      process(drained);
    } catch (RuntimeException e) {
      log.error("history shard {} failed a batch of {} changes", index, drained.size(), e);
      for (Change<?> change : drained) {
        change.result().completeExceptionally(Errors.internal("history shard failure", e));
      }
    } finally {
      drained.clear();
    }
  }

  private record Outcome(Change<?> change, Object value, Throwable error) {}

  private void undo(List<Tx> prepared) {
    for (Tx tx : prepared) {
      for (Runnable undo : tx.undos()) {
        try {
          undo.run();
        } catch (RuntimeException e) {
          log.error("history shard {}: undoing a change that was not written failed", index, e);
        }
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void process(List<Change<?>> batch) {
    batchRows.clear();
    batchCurrentRuns.clear();
    batchPurged.clear();
    batchHeldBack.clear();
    batchReleased.clear();
    List<ExecutionWrite> writes = new ArrayList<>();
    // Every write the batch computed, held back or not, in order, with its working copy: what the
    // listener is told once the batch is durable.
    List<ExecutionWrite> computed = new ArrayList<>();
    List<Execution> computedFrom = new ArrayList<>();
    List<Runnable> effects = new ArrayList<>();
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    List<Tx> prepared = new ArrayList<>();
    for (Change<?> change : batch) {
      Tx tx = new Tx(this, clock.millis());
      try {
        Object value = change.body().apply(tx);
        prepared.add(tx);
        listener.prepared(tx);
        for (Execution execution : tx.working().values()) {
          if (execution.changed()) {
            ExecutionWrite write = execution.toWrite(encoder);
            computed.add(write);
            computedFrom.add(execution);
            if (mayHoldBack(tx, execution, write)) {
              batchHeldBack.put(execution.key, new HeldBack(
                  new ExecutionRow(execution.key, write.expectedVersion(), write.row().state(), write.row().visibility()),
                  execution.readVisibility, execution.storedHadTasksOrTimers(), write.events(), write.pending()));
              continue;
            }
            if (batchHeldBack.remove(execution.key) != null || heldBack.containsKey(execution.key)) {
              batchReleased.add(execution.key);
            }
            writes.add(write);
            if (write.purge()) {
              batchRows.remove(execution.key);
              batchPurged.add(execution.key);
            } else {
              batchRows.put(execution.key, write.row());
            }
          }
        }
        batchCurrentRuns.putAll(tx.currentRuns());
        effects.addAll(tx.effects());
        outcomes.add(new Outcome(change, value, null));
      } catch (Throwable t) {
        if (!(t instanceof io.grpc.StatusRuntimeException)) {
          log.error("history shard {}: a change failed unexpectedly", index, t);
        }
        if (!prepared.isEmpty() && prepared.getLast() == tx) {
          prepared.removeLast();
          undo(List.of(tx));
        }
        outcomes.add(new Outcome(change, null, t));
      }
    }
    batchChanges.record(batch.size());
    if (!writes.isEmpty()) {
      long commitStart = System.nanoTime();
      try {
        if (lease == null) {
          store.commit(writes);
        } else {
          store.commit(writes, lease);
        }
        commitTime.record(System.nanoTime() - commitStart, TimeUnit.NANOSECONDS);
      } catch (RuntimeException e) {
        commitFailures.increment();
        log.error("history shard {}: commit of {} writes failed; nothing applied", index, writes.size(), e);
        undo(prepared);
        for (ExecutionKey key : batchRows.keySet()) {
          uncache(key);
        }
        currentRuns.clear();
        batchRows.clear();
        batchCurrentRuns.clear();
        batchPurged.clear();
        // What was held back before this batch is still held back: the store has none of it.
        batchHeldBack.clear();
        batchReleased.clear();
        for (Outcome outcome : outcomes) {
          outcome.change().result().completeExceptionally(
              Errors.unavailable("could not persist the change, try again", e));
        }
        return;
      }
      batchRows.values().forEach(this::cache);
      currentRuns.putAll(batchCurrentRuns);
      if (!batchCurrentRuns.isEmpty()) {
        madeCurrent(batchCurrentRuns.keySet());
      }
      for (ExecutionKey purged : batchPurged) {
        uncache(purged);
        currentRuns.remove(currentKey(purged.namespace(), purged.workflowId()), purged.runId());
      }
    }
    batchReleased.forEach(heldBack::remove);
    heldBack.putAll(batchHeldBack);
    heldBackChanges.increment(batchHeldBack.size());
    batchRows.clear();
    batchCurrentRuns.clear();
    batchPurged.clear();
    batchHeldBack.clear();
    batchReleased.clear();
    // Answers for calls made on network threads go to them once all are built, one task per thread.
    LoopHandoff.gathering(() -> handOut(computed, computedFrom, effects, outcomes));
  }

  /** Tells the listener what became durable, runs the effects, and answers the batch's callers. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void handOut(List<ExecutionWrite> computed, List<Execution> computedFrom, List<Runnable> effects,
      List<Outcome> outcomes) {
    for (int i = 0; i < computed.size(); i++) {
      ExecutionWrite write = computed.get(i);
      try {
        listener.committed(write, computedFrom.get(i));
        if (write.deleteLegacyRows()) {
          legacyRows.remove(write.row().key());
        }
      } catch (RuntimeException e) {
        log.error("history shard {}: dispatching the effects of {} failed", index, write.row().key(), e);
      }
    }
    for (Runnable effect : effects) {
      try {
        effect.run();
      } catch (RuntimeException e) {
        log.error("history shard {}: an after-commit effect failed", index, e);
      }
    }
    for (Outcome outcome : outcomes) {
      CompletableFuture future = outcome.change().result();
      if (outcome.error() != null) {
        future.completeExceptionally(outcome.error());
      } else {
        future.complete(outcome.value());
      }
    }
  }

  /**
   * Whether a change's write may be held back: the change allows it, it changed one run that is
   * stored already and stays running, and nothing in the write needs the store now (a new current
   * run, old rows to delete, a deletion, tasks and timers cleared).
   */
  private boolean mayHoldBack(Tx tx, Execution execution, ExecutionWrite write) {
    return tx.holdBackAllowed()
        && tx.working().size() == 1
        && tx.currentRuns().isEmpty()
        && write.expectedVersion() > 0
        && !write.makeCurrent()
        && !write.purge()
        && !write.deleteLegacyRows()
        && !execution.clearedTasksAndTimers
        && execution.state.isRunning()
        && heldBack.size() + batchHeldBack.size() < MAX_HELD_BACK;
  }

  /**
   * Writes what is held back, at close: a server that stops (or gives the shard up) leaves the
   * starts of workflow tasks in flight in the store, so their workers' completions are accepted
   * after a restart. The caller holds {@link #processing}.
   */
  private void writeHeldBack() {
    if (heldBack.isEmpty()) {
      return;
    }
    List<ExecutionWrite> writes = new ArrayList<>(heldBack.size());
    for (HeldBack held : heldBack.values()) {
      ExecutionRow row = held.row();
      writes.add(new ExecutionWrite(new ExecutionRow(row.key(), row.version() + 1, row.state(), row.visibility()),
          row.version(), false, held.events(), held.pending(), false, false, false));
    }
    try {
      if (lease == null) {
        store.commit(writes);
      } else {
        store.commit(writes, lease);
      }
      log.info("history shard {}: wrote {} held-back workflow task starts at close", index, writes.size());
      heldBack.clear();
    } catch (RuntimeException e) {
      log.error("history shard {}: could not write {} held-back workflow task starts at close; their tasks are "
          + "dispatched again by the next owner", index, writes.size(), e);
    }
  }

  @Override
  public void close() {
    running = false;
    // Wakes a writer waiting for work, so a shard given up to another server stops at once.
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(10));
      Thread scan = idScan;
      if (scan != null) {
        scan.interrupt();
        scan.join(TimeUnit.SECONDS.toMillis(10));
      }
      // The writer may still be writing a batch: the shard is closed once that write is done.
      if (processing.tryLock(10, TimeUnit.SECONDS)) {
        try {
          writeHeldBack();
        } finally {
          processing.unlock();
        }
      } else {
        log.warn("history shard {}: a batch still running after 10 s at close; held-back workflow task starts "
            + "are not written, their tasks are dispatched again after a restart", index);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static <K, V> Map<K, V> lru(int capacity) {
    return new LinkedHashMap<>(capacity, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
      }
    };
  }
}
