package dev.perdura.internal.activity;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Set once when the worker's shutdown begins; activities may wait for it. */
public final class WorkerShutdownSignal {
  private final CountDownLatch shutdown = new CountDownLatch(1);

  public void signal() {
    shutdown.countDown();
  }

  public boolean isSet() {
    return shutdown.getCount() == 0;
  }

  /** Waits until shutdown begins or the timeout passes; returns whether it began. */
  public boolean await(Duration timeout) throws InterruptedException {
    return shutdown.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }
}
