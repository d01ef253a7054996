package dev.perdura.server.timers;

import dev.perdura.server.store.TimerRow;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires durable timers at their time. The rows live in the store (written in the same transaction
 * as the change that armed them); this queue is their in-memory index, rebuilt from the store at
 * start, so a restart loses none. Firing only hands the row to the history layer, which decides
 * from the run's state whether it is still meaningful (a moved or stale timer is ignored there).
 */
public final class TimerQueue implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TimerQueue.class);

  private final Clock clock;
  private final Consumer<TimerRow> onFire;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final PriorityQueue<TimerRow> due =
      new PriorityQueue<>(Comparator.comparingLong(TimerRow::fireAtMillis));
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

  public void schedule(TimerRow timer) {
    lock.lock();
    try {
      due.add(timer);
      if (due.peek() == timer) {
        changed.signal();
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
        while (!due.isEmpty() && due.peek().fireAtMillis() <= now) {
          fired.add(due.poll());
        }
        if (fired.isEmpty()) {
          long wait = due.isEmpty() ? 1000 : Math.min(1000, due.peek().fireAtMillis() - now);
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
