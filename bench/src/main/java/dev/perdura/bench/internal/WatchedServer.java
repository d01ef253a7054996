package dev.perdura.bench.internal;

/**
 * A server process on this machine that the bench reads from {@code /proc} (Linux) while it loads
 * it: the process's CPU time, its JIT compiler's share, and its peak resident set. Given by
 * {@code --server-pid}; {@code bench compare} measures the servers it starts itself.
 */
public final class WatchedServer {
  private final long pid;
  private final ProcStats.CompilerThreads compiler;

  private WatchedServer(long pid) {
    this.pid = pid;
    this.compiler = new ProcStats.CompilerThreads(pid);
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
    return new WatchedServer(pid);
  }

  public long pid() {
    return pid;
  }

  long compilerMillis() {
    return compiler.millis();
  }

  /** The readings now, to measure from. */
  public Mark mark() {
    return new Mark(ProcStats.cpuMillis(pid), JitWarmup.of(this).window());
  }

  /** The process's CPU time at one moment, and its compiler's time from then on. */
  public record Mark(long cpuMillis, JitWarmup.Window compiler) {}

  /**
   * What the server used from a mark to now.
   *
   * @param cpuMsPerUnit its CPU time (user + system, all threads) over the units of work done
   *     (workflows, or steps of a sequential workflow)
   * @param compilerBusyPercent its JIT compiler threads' CPU time over the wall time, in percent
   * @param peakRssMb its peak resident set so far (VmHWM), in MiB
   */
  public record Usage(long pid, double cpuMsPerUnit, double compilerBusyPercent, double peakRssMb) {
    /** {@code "CPU 0.912 ms/workflow, JIT compiler busy 3 %, peak RSS 214 MB (pid 4242)"}. */
    public String describe(String unit) {
      return String.format("CPU %.3f ms/%s, JIT compiler busy %.0f %%, peak RSS %.0f MB (pid %d)", cpuMsPerUnit, unit,
          compilerBusyPercent, peakRssMb, pid);
    }
  }

  /** The usage since {@code mark}, per {@code units} of work. */
  public Usage since(Mark mark, int units) {
    return new Usage(pid, (ProcStats.cpuMillis(pid) - mark.cpuMillis()) / (double) units,
        mark.compiler().compilerBusyPercent(), ProcStats.peakRssBytes(pid) / (1024.0 * 1024.0));
  }
}
