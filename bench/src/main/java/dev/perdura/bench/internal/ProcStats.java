package dev.perdura.bench.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time and peak resident memory of a Linux process, from {@code /proc}. */
final class ProcStats {
  /** Linux reports utime and stime in clock ticks of 1/100 s ({@code getconf CLK_TCK}). */
  static final int CLOCK_TICKS_PER_SECOND = 100;

  private ProcStats() {}

  /** CPU time used so far (user + system, all threads), in milliseconds, from {@code /proc/PID/stat}. */
  static long cpuMillis(long pid) {
    String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
    // the fields after the command name, which is in parentheses and may contain spaces
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    long utime = Long.parseLong(fields[11]); // field 14 of the line
    long stime = Long.parseLong(fields[12]); // field 15
    return (utime + stime) * 1000 / CLOCK_TICKS_PER_SECOND;
  }

  /** The peak resident set size so far ({@code VmHWM} in {@code /proc/PID/status}), in bytes. */
  static long peakRssBytes(long pid) {
    for (String line : read(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
      if (line.startsWith("VmHWM:")) {
        String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024;
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/" + pid + "/status");
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
