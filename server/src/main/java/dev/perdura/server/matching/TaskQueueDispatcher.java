package dev.perdura.server.matching;

import dev.perdura.server.matching.FairLevel.Backlogged;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hands the tasks of one task queue (namespace, name, kind) to long-polling workers. This is the
 * in-memory side of matching: the durable copy of every task lives in the store, and this class
 * only decides who gets which task next.
 *
 * <p>A task added while polls are waiting goes straight to the oldest one; otherwise it waits in
 * the backlog. A poll takes the next backlog task, or waits for one to be added.
 *
 * <h2>Dispatch order</h2>
 *
 * <ol>
 *   <li><b>Priority.</b> {@link TaskRow#priorityKey()} 1..5, lower first; 0 (unset) is the middle
 *       level 3 and values above 5 count as 5. A level is drained before the next is looked at.
 *   <li><b>Fairness within a level</b>, by stride scheduling. A task's effective weight is its
 *       {@link TaskRow#fairnessWeight()}, 1 when unset or non-positive, clamped to [0.001, 1000].
 *       Each fairness key (the empty key is a key like any other) remembers the pass of its newest
 *       task; a new task gets {@code pass = max(base pass, key's newest pass + 1000 / weight)},
 *       where the level's base pass is the pass of the task it dispatched last (a key seen for the
 *       first time starts at the base pass). Tasks dispatch in (pass, arrival) order.
 * </ol>
 *
 * <p>So backlogged keys share dispatches in proportion to their weights, none starves, a lone key
 * gets all of them, a key that shows up late joins at the current position rather than catching up
 * on the past, and tasks of one key leave in arrival order. Two refinements: a task added again
 * while its previous copy is still in the backlog (same execution and scheduled event id, e.g. the
 * next attempt of an activity) replaces that copy; and when a key's newest tasks are {@link #remove
 * removed}, its next task is placed after its newest remaining one, so a key is not held back for
 * tasks it never got.
 *
 * <h2>Threading</h2>
 *
 * All methods are thread-safe. The state is guarded by one lock that is never held while a poll's
 * future is completed, because completing a {@link CompletableFuture} runs its dependent callbacks
 * in the completing thread: a poll's callbacks run in the thread that calls {@link #add} (or {@link
 * #close}), but never under this lock.
 *
 * <p>A poll is withdrawn by cancelling its future, e.g. when the RPC's deadline passes. A poll is
 * either withdrawn or claimed, never both: a task is handed to a poll only if claiming it succeeds,
 * else it goes to the next waiting poll or back to the backlog, and cancelling a claimed poll fails
 * (its future completes with what it was claimed for). Once a poll's future holds a task,
 * delivering it is the caller's job; a caller that can no longer deliver it must {@link #add} it
 * again.
 */
public final class TaskQueueDispatcher implements AutoCloseable {
  private static final int LEVELS = 5;
  private static final int DEFAULT_LEVEL = 3;

  private final String namespace;
  private final String taskQueue;
  private final TaskKind kind;

  private final ReentrantLock lock = new ReentrantLock();
  private final FairLevel[] levels = new FairLevel[LEVELS];

  /** Backlog tasks by execution and scheduled event id, for replacement and removal. */
  private final Map<ExecutionKey, Map<Long, Backlogged>> byExecution = new HashMap<>();

  /** Polls waiting for a task, oldest first, and who polls. Non-empty only while the backlog is empty. */
  private final SequencedMap<WaitingPoll, PollReservation.Poller> waiting = new LinkedHashMap<>();

  private long nextSequence;
  private boolean closed;

  public TaskQueueDispatcher(String namespace, String taskQueue, TaskKind kind) {
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.taskQueue = Objects.requireNonNull(taskQueue, "taskQueue");
    this.kind = Objects.requireNonNull(kind, "kind");
    for (int i = 0; i < LEVELS; i++) {
      levels[i] = new FairLevel();
    }
  }

  public String namespace() {
    return namespace;
  }

  public String taskQueue() {
    return taskQueue;
  }

  public TaskKind kind() {
    return kind;
  }

  /**
   * Offers a task: to the oldest waiting poll if there is one, else to the backlog.
   *
   * @throws IllegalArgumentException if the task belongs to another queue
   */
  public void add(TaskRow task) {
    checkBelongsHere(task);
    while (true) {
      WaitingPoll poll;
      lock.lock();
      try {
        var oldest = waiting.pollFirstEntry();
        if (oldest == null) {
          enqueue(task);
          return;
        }
        poll = oldest.getKey();
      } finally {
        lock.unlock();
      }
      if (poll.claim()) {
        poll.complete(new Dispatch.Queued(task));
        return;
      }
      // That poll was withdrawn after we took it; try the next one.
    }
  }

  /**
   * Takes the oldest waiting poll for a task that the caller starts itself, in the same history
   * write that creates it, instead of {@linkplain #add adding} it. Empty when no poll waits (then
   * the caller adds the task as usual). The poll can no longer be withdrawn and its future
   * completes when the caller fulfils or releases the reservation, which it must do.
   *
   * <p>A poll waits only while the backlog is empty, so the task taken this way is the one an
   * {@code add} would have handed to that poll: priority and fairness are not bypassed.
   */
  public Optional<PollReservation> reserveWaitingPoll() {
    while (true) {
      Map.Entry<WaitingPoll, PollReservation.Poller> oldest;
      lock.lock();
      try {
        oldest = waiting.pollFirstEntry();
      } finally {
        lock.unlock();
      }
      if (oldest == null) {
        return Optional.empty();
      }
      if (oldest.getKey().claim()) {
        return Optional.of(new PollReservation(oldest.getValue(), oldest.getKey()));
      }
      // That poll was withdrawn after we took it; try the next one.
    }
  }

  /**
   * Asks for the next task. The future completes at once if the backlog has one, else when one is
   * added or started for this poll. Cancel the future to withdraw the poll; that fails once a task
   * has claimed the poll, and the future then completes with it. After {@link #close} the returned
   * future is already cancelled.
   */
  public CompletableFuture<Dispatch> poll(PollReservation.Poller poller) {
    Objects.requireNonNull(poller, "poller");
    WaitingPoll poll = new WaitingPoll();
    lock.lock();
    try {
      if (closed) {
        poll.cancel(false);
        return poll;
      }
      Backlogged next = dispatchNext();
      if (next != null) {
        poll.claim();
        poll.complete(new Dispatch.Queued(next.task()));
        return poll;
      }
      waiting.put(poll, poller);
    } finally {
      lock.unlock();
    }
    // However the poll ends, it must leave the waiting set; after a hand-off this finds nothing.
    poll.whenComplete((task, failure) -> forget(poll));
    return poll;
  }

  /** Drops a backlog task; false if it is not in the backlog (already dispatched or unknown). */
  public boolean remove(ExecutionKey execution, long scheduledEventId) {
    lock.lock();
    try {
      Map<Long, Backlogged> tasks = byExecution.get(execution);
      if (tasks == null) {
        return false;
      }
      Backlogged entry = tasks.remove(scheduledEventId);
      if (entry == null) {
        return false;
      }
      if (tasks.isEmpty()) {
        byExecution.remove(execution);
      }
      levelOf(entry.task()).remove(entry);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Takes every backlog task out, in dispatch order. */
  public List<TaskRow> drainBacklog() {
    List<TaskRow> taken = new ArrayList<>();
    lock.lock();
    try {
      for (Backlogged next = dispatchNext(); next != null; next = dispatchNext()) {
        taken.add(next.task());
      }
    } finally {
      lock.unlock();
    }
    return taken;
  }

  /** Drops all backlog tasks of an execution; returns how many there were. */
  public int removeExecution(ExecutionKey execution) {
    lock.lock();
    try {
      Map<Long, Backlogged> tasks = byExecution.remove(execution);
      if (tasks == null) {
        return 0;
      }
      for (Backlogged entry : tasks.values()) {
        levelOf(entry.task()).remove(entry);
      }
      return tasks.size();
    } finally {
      lock.unlock();
    }
  }

  public int backlogSize() {
    lock.lock();
    try {
      int size = 0;
      for (FairLevel level : levels) {
        size += level.size();
      }
      return size;
    } finally {
      lock.unlock();
    }
  }

  public int waitingPollers() {
    lock.lock();
    try {
      return waiting.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Cancels the waiting polls so that their pollers return promptly, and makes later polls return
   * cancelled futures. The backlog is kept (its tasks are durable elsewhere); {@link #add} still
   * accepts tasks. Idempotent.
   */
  @Override
  public void close() {
    List<WaitingPoll> toCancel;
    lock.lock();
    try {
      closed = true;
      toCancel = new ArrayList<>(waiting.keySet());
      waiting.clear();
    } finally {
      lock.unlock();
    }
    for (WaitingPoll poll : toCancel) {
      poll.cancel(false);
    }
  }

  @Override
  public String toString() {
    return "TaskQueueDispatcher[" + namespace + "/" + taskQueue + "/" + kind + "]";
  }

  private void forget(WaitingPoll poll) {
    lock.lock();
    try {
      waiting.remove(poll);
    } finally {
      lock.unlock();
    }
  }

  private void enqueue(TaskRow task) {
    Map<Long, Backlogged> tasks =
        byExecution.computeIfAbsent(task.execution(), e -> new HashMap<>());
    Backlogged previous = tasks.get(task.scheduledEventId());
    if (previous != null) {
      levelOf(previous.task()).remove(previous);
    }
    tasks.put(task.scheduledEventId(), levelOf(task).enqueue(task, nextSequence++));
  }

  private Backlogged dispatchNext() {
    for (FairLevel level : levels) {
      Backlogged next = level.dispatchNext();
      if (next != null) {
        TaskRow task = next.task();
        Map<Long, Backlogged> tasks = byExecution.get(task.execution());
        tasks.remove(task.scheduledEventId());
        if (tasks.isEmpty()) {
          byExecution.remove(task.execution());
        }
        return next;
      }
    }
    return null;
  }

  private FairLevel levelOf(TaskRow task) {
    return levels[priorityLevel(task.priorityKey()) - 1];
  }

  /** The priority level 1..5 a task's priority key dispatches at. */
  static int priorityLevel(int priorityKey) {
    if (priorityKey <= 0) {
      return DEFAULT_LEVEL;
    }
    return Math.min(priorityKey, LEVELS);
  }

  /**
   * A poll's future that is claimed (by a task handed to it) or withdrawn (cancelled), exactly
   * once. A claimed poll's future is completed by its claimer, outside the dispatcher's lock.
   */
  static final class WaitingPoll extends CompletableFuture<Dispatch> {
    private final AtomicBoolean decided = new AtomicBoolean();

    /** Takes the poll for a task; false when it was withdrawn or already taken. */
    boolean claim() {
      return decided.compareAndSet(false, true);
    }

    /** Withdraws the poll unless a task has claimed it. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      return decided.compareAndSet(false, true) && super.cancel(mayInterruptIfRunning);
    }
  }

  private void checkBelongsHere(TaskRow task) {
    if (task.kind() != kind
        || !task.taskQueue().equals(taskQueue)
        || !task.execution().namespace().equals(namespace)) {
      throw new IllegalArgumentException(
          "task of " + task.execution() + " for " + task.taskQueue() + "/" + task.kind()
              + " does not belong to " + this);
    }
  }
}
