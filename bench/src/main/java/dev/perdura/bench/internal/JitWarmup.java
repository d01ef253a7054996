package dev.perdura.bench.internal;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.LongSupplier;

/**
 * How busy the JIT compilers of this process (and of a server on this machine) are, and a warm-up
 * that lasts until they are nearly idle.
 *
 * <p>A fresh bench process compiles the client's and the SDK's code for a minute or more on a
 * two-core machine, on the same cores as the measured steps: a sequential run after 3000 warm-up
 * steps measured twice the p50 of one after 20 000 (docs/performance.md). A server on the same
 * machine compiles for longer still (its C2 thread took 36 % of its CPU 90 s into a run). A fixed
 * count of warm-up steps is right on one machine only; the compilers' share of the wall time says
 * when the processes are warm on any.
 */
public final class JitWarmup {
  /** A JVM whose compiler is watched: the name printed for it, and its compiler's milliseconds so far (-1 when unknown). */
  record Compiler(String name, LongSupplier millis) {}

  /** This process's compiler, from its {@link CompilationMXBean}. */
  static final Compiler THIS_PROCESS = new Compiler("client", new LongSupplier() {
    private final CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();

    @Override
    public long getAsLong() {
      return compiler != null && compiler.isCompilationTimeMonitoringSupported()
          ? compiler.getTotalCompilationTime() : -1;
    }
  });

  /** A stretch of time from its start: how much of it each compiler was busy. */
  public static final class Window {
    private final List<Compiler> compilers;
    private final LongSupplier nanoTime;
    private final long[] startMillis;
    private final long startNanos;

    Window(List<Compiler> compilers, LongSupplier nanoTime) {
      this.compilers = compilers;
      this.nanoTime = nanoTime;
      this.startMillis = compilers.stream().mapToLong(c -> c.millis().getAsLong()).toArray();
      this.startNanos = nanoTime.getAsLong();
    }

    /**
     * For each compiler, in the order watched: its time over the wall time since the window began,
     * in percent (above 100 when several compiler threads work at once); NaN when that JVM does not
     * tell or no time has passed.
     */
    public List<Double> busyPercents() {
      double wallMillis = (nanoTime.getAsLong() - startNanos) / 1e6;
      List<Double> percents = new ArrayList<>();
      for (int i = 0; i < compilers.size(); i++) {
        long now = compilers.get(i).millis().getAsLong();
        percents.add(now < 0 || startMillis[i] < 0 || wallMillis <= 0
            ? Double.NaN : 100.0 * (now - startMillis[i]) / wallMillis);
      }
      return percents;
    }

    /** The first compiler's share: this process's for {@link JitWarmup#ofThisProcess()}, the server's for {@link JitWarmup#of}. */
    public double compilerBusyPercent() {
      return busyPercents().getFirst();
    }

    double elapsedSeconds() {
      return (nanoTime.getAsLong() - startNanos) / 1e9;
    }
  }

  /**
   * What a warm-up did: rounds run, each compiler's share of the last one (in the order watched),
   * and whether all got below the bound.
   */
  public record Outcome(int rounds, List<Double> lastBusyPercents, boolean quiet) {}

  /**
   * A warm-up until the compilers are quiet, as asked on the command line.
   *
   * @param maxBusyPercent 0 for none
   * @param limitSeconds the longest the warm-up may take
   */
  public record Bound(double maxBusyPercent, long limitSeconds) {
    /**
     * Runs {@code round} until this process's compiler, and the server's when given, are quiet;
     * nothing when no bound was asked for.
     */
    public void warmUp(Runnable round, Optional<WatchedServer> server, PrintStream progress) {
      if (maxBusyPercent > 0) {
        JitWarmup compilers = server.map(ofThisProcess()::alsoWatching).orElseGet(JitWarmup::ofThisProcess);
        compilers.warmUntilQuiet(round, maxBusyPercent, Duration.ofSeconds(limitSeconds), progress);
      }
    }
  }

  /** Rounds in a row below the bound that end a warm-up. */
  static final int QUIET_ROUNDS = 2;

  private final List<Compiler> compilers;
  private final LongSupplier nanoTime;

  JitWarmup(List<Compiler> compilers, LongSupplier nanoTime) {
    if (compilers.isEmpty()) {
      throw new IllegalArgumentException("no compiler to watch");
    }
    this.compilers = List.copyOf(compilers);
    this.nanoTime = nanoTime;
  }

  /** Over this JVM's compiler. */
  public static JitWarmup ofThisProcess() {
    return new JitWarmup(List.of(THIS_PROCESS), System::nanoTime);
  }

  /** Over the compiler of a server on this machine. */
  static JitWarmup of(WatchedServer server) {
    return new JitWarmup(List.of(serverCompiler(server)), System::nanoTime);
  }

  /** This one's compilers and the server's (a process on this machine). */
  public JitWarmup alsoWatching(WatchedServer server) {
    List<Compiler> all = new ArrayList<>(compilers);
    all.add(serverCompiler(server));
    return new JitWarmup(all, nanoTime);
  }

  private static Compiler serverCompiler(WatchedServer server) {
    return new Compiler("server", server::compilerMillis);
  }

  /** Above this share of the wall time, this process's compiler figures carry a warning. */
  static final double WARM_JIT_PERCENT = 10;

  /** {@code "compiler busy 12 % of the run (still warming up; see --warmup-until-jit-below)"}. */
  static String describeClientShare(double percent) {
    return String.format("compiler busy %.0f %% of the run%s", percent,
        percent >= WARM_JIT_PERCENT ? " (still warming up; see --warmup-until-jit-below)" : "");
  }

  /** A window starting now. */
  public Window window() {
    return new Window(compilers, nanoTime);
  }

  /** "client 12 %, server 30 %". */
  String describe(List<Double> percents) {
    StringJoiner line = new StringJoiner(", ");
    for (int i = 0; i < compilers.size(); i++) {
      line.add(String.format("%s %.0f %%", compilers.get(i).name(), percents.get(i)));
    }
    return line.toString();
  }

  /**
   * Runs {@code round} until every compiler was busy less than {@code maxBusyPercent} of the wall
   * time of {@value #QUIET_ROUNDS} rounds in a row (a compiler works in bursts: one quiet round is
   * often followed by a busy one), or until {@code limit} has passed (then {@code quiet} is false,
   * and a line says so). Prints a line per round. When a JVM does not report its compiler's time, one round runs.
   */
  public Outcome warmUntilQuiet(Runnable round, double maxBusyPercent, Duration limit, PrintStream progress) {
    Window whole = window();
    int rounds = 0;
    int quietInARow = 0;
    while (true) {
      Window window = window();
      round.run();
      rounds++;
      List<Double> busy = window.busyPercents();
      if (busy.stream().anyMatch(p -> p.isNaN())) {
        progress.printf("warm-up round %d: a JVM does not report its JIT compiler's time (%s)%n", rounds,
            describe(busy));
        return new Outcome(rounds, busy, true);
      }
      quietInARow = busy.stream().allMatch(p -> p < maxBusyPercent) ? quietInARow + 1 : 0;
      progress.printf("warm-up round %d: JIT compiler busy %s of it, %.0f s so far%n", rounds, describe(busy),
          whole.elapsedSeconds());
      if (quietInARow >= QUIET_ROUNDS) {
        return new Outcome(rounds, busy, true);
      }
      if (whole.elapsedSeconds() * 1e9 >= limit.toNanos()) {
        progress.printf("warm-up: JIT compiler still busy %s after %d rounds; measuring anyway%n", describe(busy),
            rounds);
        return new Outcome(rounds, busy, false);
      }
    }
  }
}
