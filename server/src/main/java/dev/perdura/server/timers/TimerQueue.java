package dev.perdura.server.timers;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TimerRow;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires durable timers at their time. The rows live in the store (written in the same transaction
 * as the change that armed them); this queue is their in-memory index, rebuilt from the store at
 * start, so a restart loses none. It mirrors the store: a timer written again under its key moves,
 * and a timer deleted from the store (or every timer of a run that closed) is cancelled here, so
 * the index holds only pending timers and nothing fires for work that is already done. Firing
 * only hands the row to the history layer, which still decides from the run's state whether it is
 * meaningful.
 */
public final class TimerQueue implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TimerQueue.class);

  private final Clock clock;
  private final Consumer<TimerRow> onFire;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Pending timers by fire time; the sequence number orders equal times and tells entries apart. */
  private final TreeSet<Entry> due =
      new TreeSet<>(Comparator.comparingLong(Entry::fireAtMillis).thenComparingLong(Entry::sequence));
  /** The same entries by run and timer key. */
  private final Map<ExecutionKey, Map<String, Entry>> byExecution = new HashMap<>();
  private long sequence;

  private record Entry(TimerRow timer, long fireAtMillis, long sequence) {}
  private final Thread thread;
  private volatile boolean running = true;

  public TimerQueue(Clock clock, Consumer<TimerRow> onFire) {
    this.clock = clock;
    this.onFire = onFire;
    this.thread = Thread.ofPlatform().name("timer-queue").daemon().unstarted(this::run);
  }

  public void start() {
    thread.start();
  }

  /** Arms a timer, replacing the run's timer with the same key. */
  public void schedule(TimerRow timer) {
    lock.lock();
    try {
      Entry entry = new Entry(timer, timer.fireAtMillis(), sequence++);
      Entry replaced =
          byExecution.computeIfAbsent(timer.execution(), k -> new HashMap<>()).put(timer.timerKey(), entry);
      if (replaced != null) {
        due.remove(replaced);
      }
      due.add(entry);
      if (due.first() == entry) {
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Disarms one timer of a run; nothing happens when it is not armed. */
  public void cancel(ExecutionKey execution, String timerKey) {
    lock.lock();
    try {
      Map<String, Entry> timers = byExecution.get(execution);
      if (timers == null) {
        return;
      }
      Entry removed = timers.remove(timerKey);
      if (removed != null) {
        due.remove(removed);
      }
      if (timers.isEmpty()) {
        byExecution.remove(execution);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Disarms every timer of a run. */
  public void cancelAll(ExecutionKey execution) {
    lock.lock();
    try {
      Map<String, Entry> timers = byExecution.remove(execution);
      if (timers != null) {
        due.removeAll(timers.values());
      }
    } finally {
      lock.unlock();
    }
  }

  /** Disarms every timer of the runs {@code which} selects (their shard moved to another server). */
  public void cancelAll(java.util.function.Predicate<ExecutionKey> which) {
    lock.lock();
    try {
      var runs = byExecution.entrySet().iterator();
      while (runs.hasNext()) {
        var run = runs.next();
        if (which.test(run.getKey())) {
          due.removeAll(run.getValue().values());
          runs.remove();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  public int size() {
    lock.lock();
    try {
      return due.size();
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    List<TimerRow> fired = new ArrayList<>();
    while (running) {
      lock.lock();
      try {
        long now = clock.millis();
        while (!due.isEmpty() && due.first().fireAtMillis() <= now) {
          Entry entry = due.pollFirst();
          TimerRow timer = entry.timer();
          Map<String, Entry> timers = byExecution.get(timer.execution());
          if (timers != null && timers.remove(timer.timerKey(), entry) && timers.isEmpty()) {
            byExecution.remove(timer.execution());
          }
          fired.add(timer);
        }
        if (fired.isEmpty()) {
          long wait = due.isEmpty() ? 1000 : Math.min(1000, due.first().fireAtMillis() - now);
          changed.await(Math.max(1, wait), TimeUnit.MILLISECONDS);
          continue;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        lock.unlock();
      }
      for (TimerRow timer : fired) {
        try {
          onFire.accept(timer);
        } catch (RuntimeException e) {
          log.error("timer {} of {} could not be fired", timer.timerKey(), timer.execution(), e);
        }
      }
      fired.clear();
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
