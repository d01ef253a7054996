package dev.perdura.bench.internal;

import java.nio.file.Path;

/**
 * A server process on this machine that the bench reads from {@code /proc} (Linux) while it loads
 * it: the process's CPU time, its JIT compiler's share, and its peak resident set. Given by
 * {@code --server-pid}; {@code bench compare} measures the servers it starts itself.
 *
 * <p>The CPU time is given twice: all of it, and without the JIT compiler threads'. A server that
 * has run for minutes has compiled what it runs, but a run of seconds after a short warm-up can
 * spend more on compiling than on the work (three quarters of a round in one {@code bench
 * compare}); the second figure is what the work itself costs, and what a warm server spends.
 */
public final class WatchedServer {
  private final Path proc;
  private final long pid;
  private final ProcStats.CompilerThreads compiler;

  /** Reading {@code proc} in place of {@code /proc}; a seam for tests. */
  WatchedServer(Path proc, long pid) {
    this.proc = proc;
    this.pid = pid;
    this.compiler = new ProcStats.CompilerThreads(proc, pid);
  }

  /**
   * The process {@code pid}.
   *
   * @throws IllegalArgumentException when this machine has no such process that this user may read
   */
  public static WatchedServer of(long pid) {
    if (pid <= 0 || !ProcStats.readable(pid)) {
      throw new IllegalArgumentException("no process " + pid + " to read in /proc on this machine");
    }
    return new WatchedServer(ProcStats.PROC, pid);
  }

  public long pid() {
    return pid;
  }

  long compilerMillis() {
    return compiler.millis();
  }

  /** The readings now, to measure from. */
  public Mark mark() {
    return new Mark(ProcStats.cpuMillis(proc, pid), compilerMillis(), JitWarmup.of(this).window());
  }

  /** The process's CPU time and its compiler threads' at one moment, and its compiler's share from then on. */
  public record Mark(long cpuMillis, long compilerMillis, JitWarmup.Window compiler) {}

  /**
   * What the server used from a mark to now.
   *
   * @param cpuMsPerUnit its CPU time (user + system, all threads) over the units of work done
   *     (workflows, or steps of a sequential workflow)
   * @param cpuMsPerUnitWithoutCompiler the same without the JIT compiler threads' CPU time
   * @param compilerBusyPercent its JIT compiler threads' CPU time over the wall time, in percent
   * @param peakRssMb its peak resident set so far (VmHWM), in MiB
   */
  public record Usage(long pid, double cpuMsPerUnit, double cpuMsPerUnitWithoutCompiler, double compilerBusyPercent,
      double peakRssMb) {
    /**
     * {@code "CPU 0.912 ms/workflow (0.880 without the JIT compilers), JIT compiler busy 3 %, peak RSS 214 MB (pid
     * 4242)"}.
     */
    public String describe(String unit) {
      return String.format("CPU %.3f ms/%s (%.3f without the JIT compilers), JIT compiler busy %.0f %%, "
          + "peak RSS %.0f MB (pid %d)", cpuMsPerUnit, unit, cpuMsPerUnitWithoutCompiler, compilerBusyPercent,
          peakRssMb, pid);
    }
  }

  /** The usage since {@code mark}, per {@code units} of work. */
  public Usage since(Mark mark, int units) {
    long cpuMillis = ProcStats.cpuMillis(proc, pid) - mark.cpuMillis();
    // Both are counted in clock ticks (10 ms), read a moment apart: on a tiny run the difference
    // could come out below zero.
    long compilerMillis = compilerMillis() - mark.compilerMillis();
    return new Usage(pid, cpuMillis / (double) units, Math.max(0, cpuMillis - compilerMillis) / (double) units,
        mark.compiler().compilerBusyPercent(), ProcStats.peakRssBytes(proc, pid) / (1024.0 * 1024.0));
  }
}
