package dev.perdura.bench.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * A fixed computation timed in CPU time: how fast this machine runs code at the moment.
 *
 * <p>On a virtual machine that shares its host, the CPU time charged for the same work is not
 * constant. A loop whose work never changes took 0.70 s of CPU in one minute and 1.30 s in the
 * next on the 2-core machine of docs/performance.md, as the host's other guests came and went, and
 * every figure of CPU time per workflow moves with it. The throughput scenario times this loop
 * before and after each run, so that a run whose CPU figures are high because the host was busy
 * can be told from one where a server did more work.
 */
final class MachineCheck {
  /** Iterations of one timing: about 80 ms of CPU on the machine of docs/performance.md. */
  static final int ITERATIONS = 50_000_000;

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Where each timing leaves its result, so that the compiler cannot drop the loop. */
  private static volatile long sink;

  private MachineCheck() {}

  /**
   * The loop's CPU time in milliseconds, the median of three timings; NaN where the JVM cannot
   * time a thread (and on a virtual thread, whose carrier's time is not its own).
   */
  static double loopCpuMillis() {
    double[] timings = new double[3];
    for (int i = 0; i < timings.length; i++) {
      long nanos = loopCpuNanos(ITERATIONS);
      if (nanos < 0) {
        return Double.NaN;
      }
      timings[i] = nanos / 1e6;
    }
    Arrays.sort(timings);
    return timings[1];
  }

  /** This thread's CPU time for {@code iterations} of the loop, in nanoseconds; -1 when it cannot be read. */
  static long loopCpuNanos(int iterations) {
    if (Thread.currentThread().isVirtual() || !THREADS.isCurrentThreadCpuTimeSupported()) {
      return -1;
    }
    long start = THREADS.getCurrentThreadCpuTime();
    long x = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
    }
    sink = x;
    return THREADS.getCurrentThreadCpuTime() - start;
  }
}
