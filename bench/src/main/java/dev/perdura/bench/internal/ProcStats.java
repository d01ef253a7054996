package dev.perdura.bench.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** CPU time and peak resident memory of a Linux process, from {@code /proc}. */
final class ProcStats {
  /** Linux reports utime and stime in clock ticks of 1/100 s ({@code getconf CLK_TCK}). */
  static final int CLOCK_TICKS_PER_SECOND = 100;

  private ProcStats() {}

  /** The system's process table. */
  static final Path PROC = Path.of("/proc");

  /**
   * CPU time used so far (user + system, all threads), in milliseconds, from {@code PID/stat} under
   * {@code proc} ({@link #PROC}, or a stand-in in tests).
   */
  static long cpuMillis(Path proc, long pid) {
    return ticksToMillis(Stat.parse(read(proc.resolve(Long.toString(pid)).resolve("stat"))).ticks());
  }

  /**
   * This process's CPU time so far (all threads), in milliseconds, from the JVM rather than
   * {@code /proc}, so that it works on any system; -1 when the JVM does not tell.
   */
  static long thisProcessCpuMillis() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      long nanos = os.getProcessCpuTime();
      return nanos < 0 ? -1 : nanos / 1_000_000;
    }
    return -1;
  }

  /** The peak resident set size so far ({@code VmHWM} in {@code /proc/PID/status}), in bytes. */
  static long peakRssBytes(long pid) {
    return peakRssBytes(PROC, pid);
  }

  /** The same, reading {@code proc} in place of {@code /proc}. */
  static long peakRssBytes(Path proc, long pid) {
    for (String line : read(proc.resolve(Long.toString(pid)).resolve("status")).split("\n")) {
      if (line.startsWith("VmHWM:")) {
        String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024;
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/" + pid + "/status");
  }

  /** Whether this machine has a process with this id that this user may read. */
  static boolean readable(long pid) {
    return Files.isReadable(PROC.resolve(Long.toString(pid)).resolve("stat"));
  }

  /**
   * The CPU time of a HotSpot JVM's JIT compiler threads ({@code C1 CompilerThread0}, {@code C2
   * CompilerThread1}, ...; the kernel keeps the first 15 characters of a thread's name).
   *
   * <p>A JVM starts and stops compiler threads as its queue grows and shrinks, and a stopped
   * thread's time leaves {@code /proc}; so each thread's last reading is kept, and the total only grows.
   */
  static final class CompilerThreads {
    private final Path proc;
    private final long pid;
    private final Map<String, Long> ticksByThread = new HashMap<>();

    CompilerThreads(long pid) {
      this(PROC, pid);
    }

    /** Reading {@code proc} in place of {@code /proc}; a seam for tests. */
    CompilerThreads(Path proc, long pid) {
      this.proc = proc;
      this.pid = pid;
    }

    /** The compiler threads' CPU time so far, in milliseconds. */
    synchronized long millis() {
      Path tasks = proc.resolve(Long.toString(pid)).resolve("task");
      try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
        for (Path thread : threads) {
          String stat;
          try {
            stat = Files.readString(thread.resolve("stat"));
          } catch (NoSuchFileException ended) {
            continue; // ended between the listing and the read; its last reading stays
          }
          Stat parsed = Stat.parse(stat);
          if (parsed.name().contains("CompilerThre")) {
            ticksByThread.merge(thread.getFileName().toString(), parsed.ticks(), Math::max);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the threads of process " + pid, e);
      }
      return ticksToMillis(ticksByThread.values().stream().mapToLong(Long::longValue).sum());
    }
  }

  /** The fields of a {@code stat} line that the bench reads. */
  record Stat(String name, long ticks) {
    static Stat parse(String stat) {
      // The command name is in parentheses and may itself contain spaces and parentheses.
      int open = stat.indexOf('(');
      int close = stat.lastIndexOf(')');
      String[] fields = stat.substring(close + 2).trim().split("\\s+");
      long utime = Long.parseLong(fields[11]); // field 14 of the line
      long stime = Long.parseLong(fields[12]); // field 15
      return new Stat(stat.substring(open + 1, close), utime + stime);
    }
  }

  private static long ticksToMillis(long ticks) {
    return ticks * 1000 / CLOCK_TICKS_PER_SECOND;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
