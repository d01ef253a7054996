package dev.perdura.bench.internal;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** Prints {@code label: done/total, rate} once a second while a scenario runs and once when {@link #close()} stops it. */
public final class Progress implements AutoCloseable {
  private final ScheduledExecutorService timer;
  private final PrintStream out;
  private final String label;
  private final int total;
  private final IntSupplier done;
  private final long startNanos = System.nanoTime();
  private long lastNanos = startNanos;
  private int lastDone;

  private Progress(PrintStream out, String label, int total, IntSupplier done) {
    this.out = out;
    this.label = label;
    this.total = total;
    this.done = done;
    this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("bench-progress").daemon().factory());
  }

  /** Starts printing to {@code out}, once a second, how many of {@code total} are {@code done}. */
  public static Progress start(PrintStream out, String label, int total, IntSupplier done) {
    Progress progress = new Progress(out, label, total, done);
    progress.timer.scheduleAtFixedRate(progress::print, 1, 1, TimeUnit.SECONDS);
    return progress;
  }

  private void print() {
    long now = System.nanoTime();
    int current = done.getAsInt();
    double rate = (current - lastDone) / ((now - lastNanos) / 1e9);
    out.printf("%s: %d/%d done, %.0f/s now, %.0f s elapsed%n", label, current, total, rate, (now - startNanos) / 1e9);
    lastNanos = now;
    lastDone = current;
  }

  @Override
  public void close() throws InterruptedException {
    timer.shutdownNow();
    if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the progress printer did not stop");
    }
    // a last line, so that a run shorter than a second still shows it happened
    print();
  }
}
