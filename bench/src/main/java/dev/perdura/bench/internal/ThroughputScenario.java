package dev.perdura.bench.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.perdura.bench.BenchClient;
import java.io.PrintStream;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * N workflows of one trivial activity each, at most C in flight (started and not finished): C
 * virtual threads each start a workflow, wait for its result, and take the next.
 */
public final class ThroughputScenario {
  private ThroughputScenario() {}

  /**
   * What one run measured.
   *
   * @param seconds wall time from the first start to the last result
   * @param latency per workflow, from just before its start request to its result in the client
   * @param clientCpuMsPerWorkflow this process's CPU time (the client and its worker) over the workflows;
   *     NaN when the JVM does not tell
   * @param clientJitPercent this process's JIT compiler time over the run's wall time, in percent
   * @param server what the server used in the run, when it was given to watch (null otherwise)
   * @param loopCpuMsBefore the CPU time of a fixed loop ({@link MachineCheck}) just before the run, in
   *     milliseconds: the same work every time, so more of it means a busier host, and CPU figures
   *     inflated with it
   * @param loopCpuMsAfter the same just after the run
   */
  public record Result(int workflows, int concurrency, BenchClient.Step step, double seconds,
      double workflowsPerSecond, Stats latency, double clientCpuMsPerWorkflow, double clientJitPercent,
      @JsonInclude(JsonInclude.Include.NON_NULL) WatchedServer.Usage server, double loopCpuMsBefore,
      double loopCpuMsAfter) {
    /** Prints the figures as a small table. */
    public void print(PrintStream out, String title) {
      out.println(title);
      out.printf("  workflows     %d (1 %s each), concurrency %d%n", workflows, step.label(), concurrency);
      out.printf("  wall time     %.2f s%n", seconds);
      out.printf("  throughput    %.1f workflows/s%n", workflowsPerSecond);
      out.printf("  latency ms    p50 %.1f  p90 %.1f  p99 %.1f  max %.1f%n",
          latency.p50Ms(), latency.p90Ms(), latency.p99Ms(), latency.maxMs());
      out.printf("  client CPU    %.3f ms/workflow%n", clientCpuMsPerWorkflow);
      out.printf("  client JIT    %s%n", JitWarmup.describeClientShare(clientJitPercent));
      if (server != null) {
        out.printf("  server        %s%n", server.describe("workflow"));
      }
      out.printf("  machine       a fixed loop took %.1f ms of CPU before the run, %.1f after (more: a busier host)%n",
          loopCpuMsBefore, loopCpuMsAfter);
    }
  }

  /** An unmeasured run, as a round of a warm-up until the compilers are quiet. */
  static void warmUpRound(BenchClient client, int workflows, int concurrency, BenchClient.Step step,
      PrintStream progress) {
    try {
      warmUp(client, "warm-up", workflows, concurrency, step, progress);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while warming up", e);
    }
  }

  /**
   * Runs the scenario unmeasured, to warm the client and the server up (the machine's loop is not
   * timed); progress lines go to {@code progress}, labelled {@code label}.
   */
  public static void warmUp(BenchClient client, String label, int workflows, int concurrency, BenchClient.Step step,
      PrintStream progress) throws InterruptedException {
    drive(client, label, workflows, concurrency, step, Optional.empty(), progress, false);
  }

  /** Runs the scenario and reads what {@code server} used meanwhile; progress lines go to {@code progress}. */
  public static Result run(BenchClient client, String label, int workflows, int concurrency, BenchClient.Step step,
      Optional<WatchedServer> server, PrintStream progress) throws InterruptedException {
    return drive(client, label, workflows, concurrency, step, server, progress, true);
  }

  private static Result drive(BenchClient client, String label, int workflows, int concurrency,
      BenchClient.Step step, Optional<WatchedServer> server, PrintStream progress, boolean timeTheMachine)
      throws InterruptedException {
    if (workflows < 1 || concurrency < 1) {
      throw new IllegalArgumentException("workflows and concurrency must be at least 1");
    }
    String prefix = "throughput-" + UUID.randomUUID() + "-";
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    long[] latencies = new long[workflows];
    double loopBefore = timeTheMachine ? MachineCheck.loopCpuMillis() : Double.NaN;
    JitWarmup.Window jit = JitWarmup.ofThisProcess().window();
    Optional<WatchedServer.Mark> serverMark = server.map(WatchedServer::mark);
    long cpuBefore = ProcStats.thisProcessCpuMillis();
    long start = System.nanoTime();
    try (Progress ignored = Progress.start(progress, label, workflows, done::get)) {
      try (ExecutorService drivers = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int d = 0; d < Math.min(concurrency, workflows); d++) {
          drivers.execute(() -> {
            int i;
            while (failure.get() == null && (i = next.getAndIncrement()) < workflows) {
              long t0 = System.nanoTime();
              try {
                client.runWorkflow(prefix + i, 1, step);
              } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
                return;
              }
              latencies[i] = System.nanoTime() - t0;
              done.incrementAndGet();
            }
          });
        }
      }
    }
    long end = System.nanoTime();
    double jitPercent = jit.compilerBusyPercent();
    long cpuAfter = ProcStats.thisProcessCpuMillis();
    double cpuPerWorkflow = cpuBefore < 0 || cpuAfter < 0 ? Double.NaN : (cpuAfter - cpuBefore) / (double) workflows;
    WatchedServer.Usage serverUsage = server.map(s -> s.since(serverMark.orElseThrow(), workflows)).orElse(null);
    double loopAfter = timeTheMachine ? MachineCheck.loopCpuMillis() : Double.NaN;
    if (failure.get() != null) {
      throw new IllegalStateException("a workflow failed after " + done.get() + " of " + workflows + " finished",
          failure.get());
    }
    double seconds = (end - start) / 1e9;
    return new Result(workflows, concurrency, step, seconds, workflows / seconds, Stats.ofNanos(latencies),
        cpuPerWorkflow, jitPercent, serverUsage, loopBefore, loopAfter);
  }
}
