package dev.perdura.bench.internal;

import dev.perdura.bench.BenchClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The throughput scenario against a Perdura server and the official Temporal test server, each in
 * its own JVM started here, in alternation (Perdura, test server, Perdura, ...). For each run, the
 * server process's CPU time (user + system) is read before and after; peak RSS is read at the end.
 */
public final class CompareScenario {
  private CompareScenario() {}

  /** The options of a comparison. */
  public record Options(int workflows, int concurrency, int rounds, int warmup, JitWarmup.Bound warmupUntilQuiet,
      List<String> serverJvmArgs, List<String> perduraJvmArgs) {}

  /**
   * One server's figures.
   *
   * @param command the command line that started it
   * @param runs each measured round
   * @param cpuMsPerWorkflow for each round, the server's CPU time during the round divided by the workflows
   * @param cpuMsPerWorkflowWithoutCompiler the same without its JIT compiler threads' time: what a warm server spends
   * @param benchCpuMsPerWorkflow the same for this process (the client and the worker), for context
   * @param peakRssMb the process's peak resident set (VmHWM) at the end, warm-up and all rounds included
   * @param medianP50Ms the median over the rounds of each round's latency p50 (p99 likewise)
   */
  public record ServerFigures(String server, List<String> command, List<ThroughputScenario.Result> runs,
      List<Double> cpuMsPerWorkflow, List<Double> cpuMsPerWorkflowWithoutCompiler, List<Double> benchCpuMsPerWorkflow,
      double peakRssMb, double medianWorkflowsPerSecond, double medianP50Ms, double medianP99Ms,
      double medianCpuMsPerWorkflow, double medianCpuMsPerWorkflowWithoutCompiler, double medianBenchCpuMsPerWorkflow) {
    /** The figures with their medians over the rounds (of each round's p50 and p99 for the latencies). */
    static ServerFigures of(String server, List<String> command, List<ThroughputScenario.Result> runs,
        List<Double> benchCpuMsPerWorkflow, double peakRssMb) {
      List<Double> cpu = runs.stream().map(r -> r.server().cpuMsPerUnit()).toList();
      List<Double> cpuWithoutCompiler = runs.stream().map(r -> r.server().cpuMsPerUnitWithoutCompiler()).toList();
      return new ServerFigures(server, List.copyOf(command), List.copyOf(runs), cpu, cpuWithoutCompiler,
          List.copyOf(benchCpuMsPerWorkflow), peakRssMb,
          Stats.median(runs.stream().map(ThroughputScenario.Result::workflowsPerSecond).toList()),
          Stats.median(runs.stream().map(r -> r.latency().p50Ms()).toList()),
          Stats.median(runs.stream().map(r -> r.latency().p99Ms()).toList()), Stats.median(cpu),
          Stats.median(cpuWithoutCompiler), Stats.median(benchCpuMsPerWorkflow));
    }
  }

  /**
   * The comparison.
   *
   * @param throughputRatio the median over rounds of (Perdura's workflows/s / the test server's) in the same round
   */
  public record Result(Options options, String jdk, int processors, List<ServerFigures> servers,
      List<Double> roundRatios, double throughputRatio) {
    /** Prints the table, ending with the {@code throughput ratio} line. */
    public void print(PrintStream out) {
      out.printf("compare: %d workflows x %d rounds per server (1 activity each), concurrency %d, warm-up %d%s; "
          + "JDK %s, %d cores%n", options.workflows(), options.rounds(), options.concurrency(), options.warmup(),
          options.warmupUntilQuiet().maxBusyPercent() > 0
              ? String.format(" then until the JIT compilers were below %.0f %%", options.warmupUntilQuiet().maxBusyPercent())
              : "", jdk, processors);
      out.printf("%-12s %12s %10s %10s %12s %10s %13s %18s%n", "server", "workflows/s", "p50 ms", "p99 ms",
          "CPU ms/wf", "w/o JIT", "peak RSS MB", "bench CPU ms/wf");
      for (ServerFigures s : servers) {
        out.printf("%-12s %12.1f %10.1f %10.1f %12.3f %10.3f %13.0f %18.3f%n", s.server(),
            s.medianWorkflowsPerSecond(), s.medianP50Ms(), s.medianP99Ms(), s.medianCpuMsPerWorkflow(),
            s.medianCpuMsPerWorkflowWithoutCompiler(), s.peakRssMb(), s.medianBenchCpuMsPerWorkflow());
      }
      out.println("(medians over rounds; per round, with a fixed loop's CPU time before/after it: more is a busier host)");
      for (ServerFigures s : servers) {
        StringBuilder line = new StringBuilder(String.format("  %-12s", s.server()));
        for (int i = 0; i < s.runs().size(); i++) {
          ThroughputScenario.Result run = s.runs().get(i);
          line.append(String.format("  [%.1f wf/s, %.3f CPU ms/wf, %.3f w/o JIT, JIT %.0f %%, loop %.0f/%.0f ms]",
              run.workflowsPerSecond(), s.cpuMsPerWorkflow().get(i), s.cpuMsPerWorkflowWithoutCompiler().get(i),
              run.server().compilerBusyPercent(), run.loopCpuMsBefore(), run.loopCpuMsAfter()));
        }
        out.println(line);
      }
      for (ServerFigures s : servers) {
        out.printf("  %-12s %s%n", s.server(), shortCommand(s.command()));
      }
      out.printf("throughput ratio perdura/test-server: %.2f%n", throughputRatio);
    }
  }

  /** The command line with the class path elided and the JDK's path shortened to {@code java}. */
  static String shortCommand(List<String> command) {
    List<String> shown = new ArrayList<>();
    for (int i = 0; i < command.size(); i++) {
      if (i == 0) {
        shown.add("java");
      } else if (command.get(i - 1).equals("-cp")) {
        shown.add("<bench class path>");
      } else {
        shown.add(command.get(i));
      }
    }
    return String.join(" ", shown);
  }

  /**
   * Runs the comparison; {@code clients} connects a benchmark client to a target. Both server
   * processes are stopped before this returns.
   */
  public static Result run(Options options, Function<String, BenchClient> clients, PrintStream progress)
      throws InterruptedException {
    if (options.rounds() < 1) {
      throw new IllegalArgumentException("rounds must be at least 1");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("perdura-bench");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      List<String> perduraArgs = new ArrayList<>(options.serverJvmArgs());
      perduraArgs.addAll(options.perduraJvmArgs());
      Future<ServerProcess> startingPerdura;
      Future<ServerProcess> startingTestServer;
      try (ExecutorService starters = Executors.newVirtualThreadPerTaskExecutor()) {
        startingPerdura = starters.submit(() -> ServerProcess.start(ServerProcess.Kind.PERDURA, dir, perduraArgs));
        startingTestServer = starters.submit(
            () -> ServerProcess.start(ServerProcess.Kind.TEST_SERVER, dir, options.serverJvmArgs()));
      }
      try (ServerProcess perdura = startedOrStop(startingPerdura, startingTestServer);
          ServerProcess testServer = startedOrStop(startingTestServer, startingPerdura)) {
        List<ServerProcess> servers = List.of(perdura, testServer);
        progress.printf("perdura on %s (pid %d), test-server on %s (pid %d), files in %s%n", perdura.target(),
            perdura.pid(), testServer.target(), testServer.pid(), dir);
        for (ServerProcess server : servers) {
          alone(server, servers, () -> {
            warmUp(server, clients, options, progress);
            return null;
          });
        }
        List<List<ThroughputScenario.Result>> runs = List.of(new ArrayList<>(), new ArrayList<>());
        List<List<Double>> benchCpu = List.of(new ArrayList<>(), new ArrayList<>());
        List<Double> ratios = new ArrayList<>();
        for (int round = 1; round <= options.rounds(); round++) {
          for (int s = 0; s < servers.size(); s++) {
            ServerProcess server = servers.get(s);
            String label = server.kind().label() + " round " + round + "/" + options.rounds();
            ThroughputScenario.Result result = alone(server, servers, () -> {
              try (BenchClient client = clients.apply(server.target())) {
                return ThroughputScenario.run(client, label, options.workflows(), options.concurrency(),
                    BenchClient.Step.ACTIVITY, Optional.of(server.watched()), progress);
              }
            });
            runs.get(s).add(result);
            benchCpu.get(s).add(result.clientCpuMsPerWorkflow());
            progress.printf("round %d %s: %.1f workflows/s, p50 %.1f ms, p99 %.1f ms, %.3f CPU ms/workflow "
                + "(%.3f without the JIT compilers)%n", round, server.kind().label(), result.workflowsPerSecond(),
                result.latency().p50Ms(), result.latency().p99Ms(), result.server().cpuMsPerUnit(),
                result.server().cpuMsPerUnitWithoutCompiler());
          }
          ratios.add(runs.get(0).getLast().workflowsPerSecond() / runs.get(1).getLast().workflowsPerSecond());
        }
        List<ServerFigures> figures = new ArrayList<>();
        for (int s = 0; s < servers.size(); s++) {
          ServerProcess server = servers.get(s);
          figures.add(ServerFigures.of(server.kind().label(), server.command(), runs.get(s), benchCpu.get(s),
              server.peakRssBytes() / (1024.0 * 1024.0)));
        }
        return new Result(options, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
            figures, ratios, Stats.median(ratios));
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** Work done on one server; it may be interrupted. */
  private interface OnServer<T> {
    T run() throws InterruptedException;
  }

  /**
   * Runs {@code work} against {@code server} with the other servers paused, so that each is
   * measured with the machine to itself (as far as this process can make it so).
   */
  private static <T> T alone(ServerProcess server, List<ServerProcess> servers, OnServer<T> work)
      throws InterruptedException {
    List<ServerProcess> paused = new ArrayList<>();
    try {
      for (ServerProcess other : servers) {
        if (other != server) {
          other.pause();
          paused.add(other);
        }
      }
      return work.run();
    } finally {
      for (ServerProcess other : paused) {
        other.resume();
      }
    }
  }

  /** The started server, or, when it failed to start, its failure after stopping the other one. */
  private static ServerProcess startedOrStop(Future<ServerProcess> started, Future<ServerProcess> other)
      throws InterruptedException {
    if (started.state() == Future.State.SUCCESS) {
      return started.resultNow();
    }
    if (other.state() == Future.State.SUCCESS) {
      other.resultNow().close();
    }
    return Futures.get(started);
  }

  private static void warmUp(ServerProcess server, Function<String, BenchClient> clients, Options options,
      PrintStream progress) throws InterruptedException {
    if (options.warmup() > 0) {
      try (BenchClient client = clients.apply(server.target())) {
        ThroughputScenario.warmUp(client, server.kind().label() + " warm-up", options.warmup(), options.concurrency(),
            BenchClient.Step.ACTIVITY, progress);
      }
    }
    // Each round with a client of its own, as each measured round has: a client's goodbye (its long
    // polls cancelled, its connection closed) takes code paths that the server's compiler otherwise
    // meets first in the measured rounds (32 % of the first round's server CPU in one run).
    options.warmupUntilQuiet().warmUp(() -> {
      try (BenchClient client = clients.apply(server.target())) {
        ThroughputScenario.warmUpRound(client, options.workflows(), options.concurrency(), BenchClient.Step.ACTIVITY,
            progress);
      }
    }, Optional.of(server.watched()), progress);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
