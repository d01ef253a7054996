package dev.perdura.bench.internal;

import dev.perdura.bench.BenchClient;
import dev.perdura.bench.BenchClient.CancelTiming;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How long a heartbeating activity takes to learn that its workflow cancelled it. Each round is a
 * workflow that starts the activity (heartbeating every few milliseconds; the SDK throttles what it
 * sends), sleeps, records the wall time in a side effect and cancels the activity's scope; the
 * activity records the wall time at which its heartbeat call threw the cancellation. The sleep is
 * 0.5 s plus a random part up to the heartbeat timeout, so the cancellation falls at a random point
 * of the SDK's heartbeat cycle. The rounds of one heartbeat timeout run at the same time.
 */
public final class CancelScenario {
  private CancelScenario() {}

  /** The figures for one heartbeat timeout; latencies in whole milliseconds (wall clock). */
  public record Result(long heartbeatTimeoutMs, Stats latency) {
    /** Prints the figures, ending with the {@code cancel latency p50} line. */
    public void print(PrintStream out) {
      out.printf("  heartbeat timeout %ds: %d rounds, cancel latency ms min %.0f  p50 %.0f  p99 %.0f  max %.0f%n",
          heartbeatTimeoutMs / 1000, latency.count(), latency.minMs(), latency.p50Ms(), latency.p99Ms(),
          latency.maxMs());
      out.printf("cancel latency p50: %.0f ms (heartbeat timeout %ds)%n", latency.p50Ms(), heartbeatTimeoutMs / 1000);
    }
  }

  /** Runs {@code rounds} cancellations at once with the given heartbeat timeout. */
  public static Result run(BenchClient client, Duration heartbeatTimeout, int rounds, PrintStream progress)
      throws InterruptedException {
    if (rounds < 1) {
      throw new IllegalArgumentException("rounds must be at least 1");
    }
    SplittableRandom random = new SplittableRandom(rounds);
    String prefix = "cancel-" + UUID.randomUUID() + "-";
    AtomicInteger done = new AtomicInteger();
    List<Future<CancelTiming>> futures = new ArrayList<>();
    try (Progress ignored = Progress.start(progress, "cancel (heartbeat timeout " + heartbeatTimeout.toSeconds() + "s)",
            rounds, done::get);
        ExecutorService drivers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int round = 0; round < rounds; round++) {
        String workflowId = prefix + round;
        Duration delay = Duration.ofMillis(500 + random.nextLong(Math.max(1, heartbeatTimeout.toMillis())));
        futures.add(drivers.submit(() -> {
          CancelTiming timing = client.runCancellation(workflowId, heartbeatTimeout, delay);
          done.incrementAndGet();
          return timing;
        }));
      }
    }
    double[] latencies = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      latencies[i] = Futures.get(futures.get(i)).latency().toMillis();
    }
    return new Result(heartbeatTimeout.toMillis(), Stats.ofMillis(latencies));
  }
}
