package dev.perdura.bench.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.perdura.bench.BenchClient;
import dev.perdura.bench.BenchClient.SequenceTiming;
import java.io.PrintStream;
import java.util.Optional;
import java.util.UUID;

/**
 * One workflow running K trivial activities one after the other. Each activity records the moment
 * it runs ({@link System#nanoTime()} in the worker, the same process as the client), so the time
 * between two consecutive activities is one full round: the activity's completion reaches the
 * server, a workflow task is scheduled, polled and completed with the next activity's command, and
 * the next activity is polled and run.
 */
public final class SequentialScenario {
  private SequentialScenario() {}

  /**
   * What one run measured.
   *
   * @param totalMs from just before the start request to the result in the client
   * @param meanPerActivityMs {@code totalMs / activities}
   * @param firstActivityMs from just before the start request to the first activity running
   * @param step from one activity running to the next (K - 1 values)
   * @param resultMs from the last activity running to the result in the client
   * @param clientJitPercent this process's JIT compiler time over the run's wall time, in percent:
   *     more than a few and the figures include the client still warming up
   * @param server what the server used in the run, per activity, when it was given to watch (null otherwise)
   */
  public record Result(int activities, BenchClient.Step kind, double totalMs, double meanPerActivityMs,
      double firstActivityMs, Stats step, double resultMs, double clientJitPercent,
      @JsonInclude(JsonInclude.Include.NON_NULL) WatchedServer.Usage server) {

    /** Prints the figures as a small table. */
    public void print(PrintStream out, String title) {
      out.println(title);
      out.printf("  steps               %d in one workflow, each one %s%n", activities, kind.label());
      out.printf("  total               %.1f ms (start to result)%n", totalMs);
      out.printf("  mean per activity   %.2f ms%n", meanPerActivityMs);
      out.printf("  activity to next    p50 %.2f ms  p99 %.2f ms  min %.2f  max %.2f%n",
          step.p50Ms(), step.p99Ms(), step.minMs(), step.maxMs());
      out.printf("  start to 1st        %.1f ms, last to result %.1f ms%n", firstActivityMs, resultMs);
      out.printf("  client JIT          %s%n", JitWarmup.describeClientShare(clientJitPercent));
      if (server != null) {
        out.printf("  server              %s%n", server.describe("activity"));
      }
    }
  }

  /** Runs the scenario and reads what {@code server} used meanwhile. */
  public static Result run(BenchClient client, int activities, BenchClient.Step kind, Optional<WatchedServer> server) {
    if (activities < 2) {
      throw new IllegalArgumentException("at least 2 activities, so there is a step between two of them");
    }
    JitWarmup.Window jit = JitWarmup.ofThisProcess().window();
    Optional<WatchedServer.Mark> serverMark = server.map(WatchedServer::mark);
    SequenceTiming timing = client.runTimedWorkflow("sequential-" + UUID.randomUUID(), activities, kind);
    double jitPercent = jit.compilerBusyPercent();
    WatchedServer.Usage serverUsage = server.map(s -> s.since(serverMark.orElseThrow(), activities)).orElse(null);
    long[] steps = new long[activities - 1];
    for (int i = 1; i < activities; i++) {
      steps[i - 1] = timing.activityReturnNanos().get(i) - timing.activityReturnNanos().get(i - 1);
    }
    double total = (timing.resultNanos() - timing.startNanos()) / 1e6;
    return new Result(activities, kind, total, total / activities,
        (timing.activityReturnNanos().get(0) - timing.startNanos()) / 1e6, Stats.ofNanos(steps),
        (timing.resultNanos() - timing.activityReturnNanos().get(activities - 1)) / 1e6, jitPercent,
        serverUsage);
  }
}
