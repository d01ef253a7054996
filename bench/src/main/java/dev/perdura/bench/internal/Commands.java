package dev.perdura.bench.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.perdura.bench.BenchCli;
import dev.perdura.bench.BenchClient;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** The sub-commands of {@code ./perdura bench}. */
public final class Commands {
  private Commands() {}

  /** Which client SDK drives the scenarios. */
  public enum ClientKind {
    /** The official Temporal Java SDK. */
    TEMPORAL_SDK,
    /** Perdura's own Java SDK. */
    PERDURA_SDK;

    public BenchClient connect(String target, String namespace) {
      return switch (this) {
        case TEMPORAL_SDK -> TemporalSdkClient.connect(target, namespace);
        case PERDURA_SDK -> PerduraSdkClient.connect(target, namespace);
      };
    }
  }

  /** Options every sub-command has. */
  public static final class Common {
    @Option(names = "--namespace", defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Option(names = "--client", defaultValue = "TEMPORAL_SDK",
        description = "Client SDK running the workflows and activities: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    ClientKind client;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures to FILE as JSON.")
    Path json;

    void writeJson(Object figures) throws IOException {
      Commands.writeJson(json, figures);
    }
  }

  /** Writes {@code figures} as JSON to {@code file}, if one was asked for. */
  static void writeJson(Path file, Object figures) throws IOException {
    if (file != null) {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), figures);
    }
  }

  /** Options of the sub-commands that use a running server. */
  public static final class Target {
    @Option(names = "--address", required = true, paramLabel = "HOST:PORT", description = "The server to load.")
    String address;
  }

  /** Options of the sub-commands that can warm up until the JIT compilers are quiet. */
  public static final class Warmth {
    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    @Option(names = "--warmup-until-jit-below", paramLabel = "PERCENT", defaultValue = "0",
        description = "After --warmup, keep running unmeasured rounds (sequential: workflows of "
            + Sequential.QUIET_ROUND_STEPS + " steps; throughput and compare: --workflows workflows) until the JIT "
            + "compilers of this process and of the server (compare's own servers, or --server-pid) were busy less than "
            + "PERCENT of the time of two in a row, for at most --warmup-limit (default: ${DEFAULT-VALUE}, off). "
            + "5 gives steady-state figures.")
    double untilJitBelow;

    @Option(names = "--warmup-limit", paramLabel = "SECONDS", defaultValue = "300",
        description = "The longest warm-up --warmup-until-jit-below may take, in seconds (default: ${DEFAULT-VALUE}).")
    long limitSeconds;

    void validate() {
      if (untilJitBelow < 0 || limitSeconds < 1) {
        throw new ParameterException(mixee.commandLine(),
            "--warmup-until-jit-below must be at least 0 and --warmup-limit at least 1");
      }
    }

    /** What was asked for. */
    JitWarmup.Bound bound() {
      return new JitWarmup.Bound(untilJitBelow, limitSeconds);
    }
  }

  /** The option of the sub-commands that can read a server on this machine while they run. */
  public static final class LocalServer {
    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    @Option(names = "--server-pid", paramLabel = "PID",
        description = "The server's process id, when it runs on this machine (Linux): each run then also reports the "
            + "server's CPU time per workflow or step, its JIT compiler's share and its peak RSS, and "
            + "--warmup-until-jit-below waits for its compiler too.")
    Long serverPid;

    /** The server to watch, if one was given. */
    Optional<WatchedServer> server() {
      if (serverPid == null) {
        return Optional.empty();
      }
      try {
        return Optional.of(WatchedServer.of(serverPid));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(mixee.commandLine(), "--server-pid: " + e.getMessage());
      }
    }
  }

  /** {@code bench throughput}. */
  @Command(name = "throughput", mixinStandardHelpOptions = true,
      description = "N workflows of one trivial activity each, at most C in flight; workflows/s and start-to-result latency.")
  public static final class Throughput implements Callable<Integer> {
    @ParentCommand BenchCli cli;
    @Spec CommandSpec spec;
    @Mixin Common common;
    @Mixin Target target;
    @Mixin Warmth warmth;
    @Mixin LocalServer localServer;

    @Option(names = "--workflows", defaultValue = "2000", description = "Workflows to run (default: ${DEFAULT-VALUE}).")
    int workflows;

    @Option(names = "--concurrency", defaultValue = "100",
        description = "Most workflows in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--local-activities", description = "Each workflow runs a local activity instead of an activity.")
    boolean local;

    @Option(names = "--warmup", defaultValue = "0",
        description = "Workflows run first at the same concurrency, not measured, so that this process and the server "
            + "are warm (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--rounds", defaultValue = "1",
        description = "Measured runs of N workflows, one after the other in this process (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
      if (warmup < 0 || rounds < 1) {
        throw new ParameterException(spec.commandLine(),
            "--warmup must be at least 0 and --rounds at least 1");
      }
      warmth.validate();
      Optional<WatchedServer> server = localServer.server();
      BenchClient.Step step = local ? BenchClient.Step.LOCAL_ACTIVITY : BenchClient.Step.ACTIVITY;
      List<ThroughputScenario.Result> results = new ArrayList<>();
      try (BenchClient client = common.client.connect(target.address, common.namespace)) {
        if (warmup > 0) {
          ThroughputScenario.warmUp(client, "warm-up", warmup, concurrency, step, cli.progress());
        }
        warmth.bound().warmUp(() -> ThroughputScenario.warmUpRound(client, workflows, concurrency, step, cli.progress()),
            server, cli.progress());
        for (int round = 1; round <= rounds; round++) {
          ThroughputScenario.Result result = ThroughputScenario.run(client,
              rounds == 1 ? "throughput" : "round " + round, workflows, concurrency, step, server, cli.progress());
          result.print(cli.out(), "throughput against " + target.address + (rounds == 1 ? "" : ", round " + round));
          results.add(result);
        }
      }
      common.writeJson(rounds == 1 ? results.get(0) : results);
      return 0;
    }
  }

  /** {@code bench sequential}. */
  @Command(name = "sequential", mixinStandardHelpOptions = true,
      description = "One workflow running K trivial activities in sequence; the time from one activity to the next.")
  public static final class Sequential implements Callable<Integer> {
    @ParentCommand BenchCli cli;
    @Mixin Common common;
    @Mixin Target target;
    @Mixin Warmth warmth;
    @Mixin LocalServer localServer;

    @Option(names = "--activities", defaultValue = "200", description = "Activities in the workflow (default: ${DEFAULT-VALUE}).")
    int activities;

    @Option(names = "--warmup", defaultValue = "50",
        description = "Activities of a workflow run first, not measured, so this process's worker is warm (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--local-activities", description = "The steps are local activities instead of activities.")
    boolean local;

    static final int QUIET_ROUND_STEPS = 1000;

    @Override
    public Integer call() throws Exception {
      warmth.validate();
      Optional<WatchedServer> server = localServer.server();
      SequentialScenario.Result result;
      BenchClient.Step step = local ? BenchClient.Step.LOCAL_ACTIVITY : BenchClient.Step.ACTIVITY;
      try (BenchClient client = common.client.connect(target.address, common.namespace)) {
        // The warm-up runs the measured code itself (the timed workflow), so that the compiler has
        // nothing left to learn when the measured workflow starts.
        if (warmup > 0) {
          client.runTimedWorkflow("sequential-warmup-" + UUID.randomUUID(), warmup, step);
        }
        warmth.bound().warmUp(
            () -> client.runTimedWorkflow("sequential-warmup-" + UUID.randomUUID(), QUIET_ROUND_STEPS, step), server,
            cli.progress());
        result = SequentialScenario.run(client, activities, step, server);
      }
      result.print(cli.out(), "sequential against " + target.address);
      common.writeJson(result);
      return 0;
    }
  }

  /** {@code bench cancel}. */
  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "A workflow cancels its heartbeating activity; the time until the activity learns of it.")
  public static final class Cancel implements Callable<Integer> {
    @ParentCommand BenchCli cli;
    @Mixin Common common;
    @Mixin Target target;

    @Option(names = "--rounds", defaultValue = "10", description = "Cancellations per heartbeat timeout (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--heartbeat-timeouts", split = ",", paramLabel = "SECONDS", defaultValue = "2,30",
        description = "Heartbeat timeouts to measure, in seconds (default: ${DEFAULT-VALUE}).")
    List<Integer> heartbeatTimeouts;

    @Override
    public Integer call() throws Exception {
      List<CancelScenario.Result> results = new ArrayList<>();
      try (BenchClient client = common.client.connect(target.address, common.namespace)) {
        for (int seconds : heartbeatTimeouts) {
          results.add(CancelScenario.run(client, Duration.ofSeconds(seconds), rounds, cli.progress()));
        }
      }
      cli.out().println("cancel against " + target.address + " (wall time from the workflow's cancel to the activity's catch)");
      results.forEach(r -> r.print(cli.out()));
      common.writeJson(results);
      return 0;
    }
  }

  /** {@code bench compare}. */
  @Command(name = "compare", mixinStandardHelpOptions = true,
      description = "Starts a Perdura server (SQLite file) and the Temporal test server, each in its own JVM, and runs "
          + "the throughput scenario against both in alternation; server CPU and peak RSS from /proc.")
  public static final class Compare implements Callable<Integer> {
    @ParentCommand BenchCli cli;
    @Mixin Common common;
    @Mixin Warmth warmth;

    @Option(names = "--workflows", defaultValue = "2000", description = "Workflows per round and server (default: ${DEFAULT-VALUE}).")
    int workflows;

    @Option(names = "--concurrency", defaultValue = "100",
        description = "Most workflows in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--rounds", defaultValue = "3", description = "Rounds per server (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup", defaultValue = "200",
        description = "Workflows run against each server before the rounds, not measured (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--server-jvm-arg", paramLabel = "ARG",
        description = "JVM option for both server processes, e.g. -Xmx256m (repeatable).")
    List<String> serverJvmArgs = new ArrayList<>();

    @Option(names = "--perdura-jvm-arg", paramLabel = "ARG",
        description = "JVM option for the Perdura server process only, e.g. -XX:StartFlightRecording=... (repeatable).")
    List<String> perduraJvmArgs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      warmth.validate();
      CompareScenario.Options options = new CompareScenario.Options(workflows, concurrency, rounds, warmup,
          warmth.bound(), List.copyOf(serverJvmArgs), List.copyOf(perduraJvmArgs));
      CompareScenario.Result result = CompareScenario.run(options,
          target -> common.client.connect(target, common.namespace), cli.progress());
      result.print(cli.out());
      common.writeJson(result);
      return 0;
    }
  }

  /** {@code bench store}. */
  @Command(name = "store", mixinStandardHelpOptions = true,
      description = "Commits workflow-shaped changes straight to a SQLite store, no server: the CPU a commit takes "
          + "per change, on the committing thread alone.")
  public static final class StoreWrites implements Callable<Integer> {
    @ParentCommand BenchCli cli;
    @Spec CommandSpec spec;

    @Option(names = "--db-file", paramLabel = "FILE",
        description = "The SQLite file to write (default: a new one in a temporary directory, deleted afterwards).")
    Path dbFile;

    @Option(names = "--changes", defaultValue = "100000", description = "Changes per round (default: ${DEFAULT-VALUE}).")
    int changes;

    @Option(names = "--batch", defaultValue = "8",
        description = "Changes per commit, each to a different run (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--in-flight", defaultValue = "100",
        description = "Runs started and not yet closed (default: ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(names = "--warmup", defaultValue = "50000",
        description = "Changes committed first, not measured (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--rounds", defaultValue = "3", description = "Measured rounds (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures to FILE as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
      if (changes < 1 || rounds < 1 || warmup < 0 || batch < 1 || inFlight < batch) {
        throw new ParameterException(spec.commandLine(), "--changes and --rounds must be at least 1, --warmup at "
            + "least 0, --batch at least 1 and at most --in-flight");
      }
      List<StoreScenario.Result> results = new ArrayList<>();
      try (SqliteStore store = dbFile == null ? SqliteStore.inMemory() : SqliteStore.open(dbFile)) {
        store.migrate();
        StoreScenario.Writer writer = new StoreScenario.Writer(store, batch, inFlight);
        if (warmup > 0) {
          writer.round("warm-up", warmup, cli.progress());
        }
        for (int round = 1; round <= rounds; round++) {
          StoreScenario.Result result = writer.round("round " + round, changes, cli.progress());
          result.print(cli.out(), "store, round " + round);
          results.add(result);
        }
      }
      cli.out().printf("commit CPU median: %.1f µs/change%n",
          Stats.median(results.stream().map(StoreScenario.Result::cpuMicrosPerChange).toList()));
      writeJson(json, results);
      return 0;
    }
  }
}
