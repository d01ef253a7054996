package dev.perdura.internal.activity;

import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityCancellationDetails;
import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.activity.CancellationShield;
import dev.perdura.client.PerduraClient;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.metrics.MetricMeter;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt of one activity as it runs in this worker: its info, its cancellation (set once, with
 * its reason), its heartbeats and shields. The static {@code Activity} methods reach it through the
 * thread it runs on ({@link #current()}), and threads started from there inherit it.
 */
public final class ActivityExecution {
  private static final Logger log = LoggerFactory.getLogger(ActivityExecution.class);
  private static final InheritableThreadLocal<ActivityExecution> CURRENT = new InheritableThreadLocal<>();

  private final ActivityInfo info;
  private final ActivityDefinition definition;
  private final PerduraClient client;
  private final PayloadConverter converter;
  private final String identity;
  private final WorkerShutdownSignal workerShutdown;
  private final HeartbeatSink heartbeats;
  private final boolean noThreadCancelException;
  private final MetricMeter meter;
  private final AtomicReference<ActivityCancellationDetails> cancellation = new AtomicReference<>();
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private final ReentrantLock runLock = new ReentrantLock();
  private Thread thread;
  private Future<?> asyncResult;
  private boolean finished;
  private int shieldDepth;
  private volatile boolean completesAsync;
  private volatile long lastHeartbeatNanos = System.nanoTime();
  private final java.util.List<java.util.concurrent.ScheduledFuture<?>> localTimeouts =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * @param definition what the worker runs; null when a test runs code of its own
   * @param client null when none is available to the activity
   * @param heartbeats makes the heartbeat sink of this execution
   */
  public ActivityExecution(ActivityInfo info, ActivityDefinition definition, boolean noThreadCancelException,
      PerduraClient client, PayloadConverter converter, String identity, WorkerShutdownSignal workerShutdown,
      MetricMeter meter, java.util.function.Function<ActivityExecution, HeartbeatSink> heartbeats) {
    this.meter = meter;
    this.info = info;
    this.definition = definition;
    this.noThreadCancelException = noThreadCancelException;
    this.client = client;
    this.converter = converter;
    this.identity = identity;
    this.workerShutdown = workerShutdown;
    this.heartbeats = heartbeats.apply(this);
  }

  /** The execution of the calling thread, or null outside activities. */
  public static ActivityExecution current() {
    return CURRENT.get();
  }

  /**
   * Makes this the activity of the calling thread (and of threads it starts), and the thread
   * cancellation interrupts. A cancellation that came before the thread was known interrupts it now:
   * a local activity can be cancelled by its workflow before its thread has started the user code.
   */
  public void bind(Thread runner) {
    CURRENT.set(this);
    runLock.lock();
    try {
      thread = runner;
      if (isCancelled() && interruptible()) {
        runner.interrupt();
      }
    } finally {
      runLock.unlock();
    }
  }

  /** Whether a cancellation may interrupt the activity's thread now; called holding {@code runLock}. */
  private boolean interruptible() {
    return !finished && !noThreadCancelException && shieldDepth == 0;
  }

  void asyncResult(Future<?> future) {
    runLock.lock();
    try {
      asyncResult = future;
    } finally {
      runLock.unlock();
    }
  }

  /** The user code is done: no more interrupts; clears one that raced with the end. */
  public void finish() {
    runLock.lock();
    try {
      finished = true;
    } finally {
      runLock.unlock();
    }
    Thread.interrupted();
    localTimeouts.forEach(timeout -> timeout.cancel(false));
    heartbeats.close();
    CURRENT.remove();
  }

  public ActivityInfo info() {
    return info;
  }

  public PayloadConverter converter() {
    return converter;
  }

  public PerduraClient client() {
    if (client == null) {
      throw new IllegalStateException("no client is available to this activity; in tests, give one to the"
          + " ActivityEnvironment");
    }
    return client;
  }

  public MetricMeter metricMeter() {
    return meter;
  }

  String identity() {
    return identity;
  }

  ActivityDefinition definition() {
    return definition;
  }

  HeartbeatSink heartbeats() {
    return heartbeats;
  }

  long lastHeartbeatNanos() {
    return lastHeartbeatNanos;
  }

  // ---- cancellation ----------------------------------------------------------------------------

  /**
   * Cancels this attempt for a reason, once: later reasons are ignored. Interrupts the activity's
   * thread unless it opted out or is inside a shield.
   */
  public boolean cancel(Reason reason) {
    if (isFinished()) {
      return false;
    }
    ActivityCancellationDetails details = ActivityCancellationDetails.of(reason);
    if (!cancellation.compareAndSet(null, details)) {
      return false;
    }
    cancelled.countDown();
    log.info("activity {} ({}) attempt {} of workflow {} cancelled: {}", info.activityId(), info.activityType(),
        info.attempt(), info.workflowId().orElse("-"), reason.name().toLowerCase());
    runLock.lock();
    try {
      if (interruptible()) {
        if (thread != null) {
          thread.interrupt();
        }
        if (asyncResult != null) {
          asyncResult.cancel(true);
        }
      }
    } finally {
      runLock.unlock();
    }
    return true;
  }

  public boolean isCancelled() {
    return cancellation.get() != null;
  }

  public ActivityCancellationDetails cancellationDetails() {
    return cancellation.get();
  }

  /** Whether a cancellation should surface as an exception in the activity now. */
  private boolean throwsNow() {
    runLock.lock();
    try {
      return cancellation.get() != null && !noThreadCancelException && shieldDepth == 0;
    } finally {
      runLock.unlock();
    }
  }

  public boolean awaitCancelled(Duration timeout) throws InterruptedException {
    return cancelled.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  public boolean isWorkerShutdown() {
    return workerShutdown.isSet();
  }

  public boolean awaitWorkerShutdown(Duration timeout) throws InterruptedException {
    return workerShutdown.await(timeout);
  }

  // ---- heartbeats, shields, async completion ---------------------------------------------------

  public void heartbeat(Object... details) {
    lastHeartbeatNanos = System.nanoTime();
    if (throwsNow()) {
      throw new ActivityCanceledException(cancellation.get());
    }
    heartbeats.record(Arrays.asList(details));
  }

  public CancellationShield shield() {
    runLock.lock();
    try {
      if (shieldDepth++ == 0 && cancellation.get() != null) {
        // An interrupt delivered before the shield must not break the shielded block.
        Thread.interrupted();
      }
    } finally {
      runLock.unlock();
    }
    return new CancellationShield() {
      private boolean closed;

      @Override
      public void close() {
        if (closed) {
          return;
        }
        closed = true;
        boolean outermost;
        runLock.lock();
        try {
          outermost = --shieldDepth == 0;
        } finally {
          runLock.unlock();
        }
        if (outermost && cancellation.get() != null && !noThreadCancelException) {
          throw new ActivityCanceledException(cancellation.get());
        }
      }
    };
  }

  public void completeAsync() {
    completesAsync = true;
  }

  public boolean completesAsync() {
    return completesAsync;
  }

  /** The worker-side start-to-close and heartbeat timeouts; cancel with {@code timed_out} when one passes. */
  public void armLocalTimeouts(ScheduledExecutorService scheduler) {
    info.startToCloseTimeout().ifPresent(timeout -> localTimeouts.add(
        scheduler.schedule(() -> cancel(Reason.TIMED_OUT), timeout.toNanos(), TimeUnit.NANOSECONDS)));
    info.heartbeatTimeout().ifPresent(timeout -> scheduleHeartbeatCheck(scheduler, timeout.toNanos()));
  }

  private void scheduleHeartbeatCheck(ScheduledExecutorService scheduler, long timeoutNanos) {
    long due = lastHeartbeatNanos + timeoutNanos - System.nanoTime();
    localTimeouts.removeIf(java.util.concurrent.Future::isDone);
    localTimeouts.add(scheduler.schedule(() -> {
      if (isFinished() || isCancelled()) {
        return;
      }
      if (System.nanoTime() - lastHeartbeatNanos >= timeoutNanos) {
        cancel(Reason.TIMED_OUT);
      } else {
        scheduleHeartbeatCheck(scheduler, timeoutNanos);
      }
    }, Math.max(due, 0), TimeUnit.NANOSECONDS));
  }

  private boolean isFinished() {
    runLock.lock();
    try {
      return finished;
    } finally {
      runLock.unlock();
    }
  }
}
