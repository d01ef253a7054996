package dev.perdura.bench.internal;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * How busy this process's JIT compiler is, and a warm-up that lasts until it is nearly idle.
 *
 * <p>A fresh bench process compiles the client's and the SDK's code for a minute or more on a
 * two-core machine, on the same cores as the measured steps: a sequential run after 3000 warm-up
 * steps measured twice the p50 of one after 20 000 (docs/performance.md). A fixed count of warm-up
 * steps is right on one machine only; the compiler's share of the wall time says when the process
 * is warm on any.
 */
public final class JitWarmup {
  /** The compiler's total time and the wall clock; a seam for tests. */
  interface Clock {
    /** Milliseconds the JIT compiler has spent so far, summed over its threads; -1 when unknown. */
    long compilationMillis();

    long nanoTime();
  }

  static final Clock JVM = new Clock() {
    private final CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();

    @Override
    public long compilationMillis() {
      return compiler != null && compiler.isCompilationTimeMonitoringSupported()
          ? compiler.getTotalCompilationTime() : -1;
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }
  };

  /** A stretch of time from its start: how much of it the compiler was busy. */
  public static final class Window {
    private final Clock clock;
    private final long startCompilationMillis;
    private final long startNanos;

    Window(Clock clock) {
      this.clock = clock;
      this.startCompilationMillis = clock.compilationMillis();
      this.startNanos = clock.nanoTime();
    }

    /**
     * Compiler time over wall time since the window began, in percent (above 100 when several
     * compiler threads work at once); NaN when the JVM does not tell or no time has passed.
     */
    public double compilerBusyPercent() {
      long compilation = clock.compilationMillis();
      double wallMillis = (clock.nanoTime() - startNanos) / 1e6;
      if (compilation < 0 || startCompilationMillis < 0 || wallMillis <= 0) {
        return Double.NaN;
      }
      return 100.0 * (compilation - startCompilationMillis) / wallMillis;
    }

    double elapsedSeconds() {
      return (clock.nanoTime() - startNanos) / 1e9;
    }
  }

  /** What a warm-up did: rounds run, the compiler's share in the last one, and whether it got below the bound. */
  public record Outcome(int rounds, double lastCompilerBusyPercent, boolean quiet) {}

  /** Rounds in a row below the bound that end a warm-up. */
  static final int QUIET_ROUNDS = 2;

  private final Clock clock;

  JitWarmup(Clock clock) {
    this.clock = clock;
  }

  /** Over this JVM's compiler. */
  public static JitWarmup ofThisProcess() {
    return new JitWarmup(JVM);
  }

  /** A window starting now. */
  public Window window() {
    return new Window(clock);
  }

  /**
   * Runs {@code round} until the compiler was busy less than {@code maxBusyPercent} of the wall time
   * of {@value #QUIET_ROUNDS} rounds in a row (it works in bursts: one quiet round is often followed
   * by a busy one), or until {@code limit} has passed (then {@code quiet} is false). Prints a line
   * per round. A JVM that does not report its compiler's time runs one round.
   */
  public Outcome warmUntilQuiet(Runnable round, double maxBusyPercent, Duration limit, PrintStream progress) {
    Window whole = window();
    int rounds = 0;
    int quietInARow = 0;
    while (true) {
      Window window = window();
      round.run();
      rounds++;
      double busy = window.compilerBusyPercent();
      if (Double.isNaN(busy)) {
        progress.printf("warm-up round %d: this JVM does not report its JIT compiler's time%n", rounds);
        return new Outcome(rounds, busy, true);
      }
      quietInARow = busy < maxBusyPercent ? quietInARow + 1 : 0;
      progress.printf("warm-up round %d: JIT compiler busy %.0f %% of it, %.0f s so far%n", rounds, busy,
          whole.elapsedSeconds());
      boolean quiet = quietInARow >= QUIET_ROUNDS;
      if (quiet || whole.elapsedSeconds() * 1e9 >= limit.toNanos()) {
        return new Outcome(rounds, busy, quiet);
      }
    }
  }
}
