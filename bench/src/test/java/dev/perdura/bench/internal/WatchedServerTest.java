package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchedServerTest {
  @TempDir Path proc;

  /** A stat line as Linux writes it, with utime and stime in clock ticks of 10 ms. */
  private static void stat(Path file, long id, String name, long utime, long stime) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, id + " (" + name + ") S 1 1 1 0 -1 4194368 100 0 0 0 " + utime + " " + stime
        + " 0 0 20 0 40 0 123 456 789\n");
  }

  /** Process 42's readings at one moment: its CPU ticks, its C2 thread's, and its peak RSS. */
  private record Reading(long utime, long stime, long compilerUtime, long peakKb) {}

  private void write(Reading r) throws IOException {
    stat(proc.resolve("42/stat"), 42, "java", r.utime(), r.stime());
    stat(proc.resolve("42/task/43/stat"), 43, "C2 CompilerThre", r.compilerUtime(), 0);
    stat(proc.resolve("42/task/44/stat"), 44, "history-shard-0", r.utime() - r.compilerUtime(), r.stime());
    Files.writeString(proc.resolve("42/status"), "Name:\tjava\nVmPeak:\t 900000 kB\nVmHWM:\t " + r.peakKb() + " kB\n");
  }

  /** What process 42 used from one reading to the next, per unit of {@code units}. */
  private WatchedServer.Usage used(Reading before, Reading after, int units) throws IOException {
    write(before);
    WatchedServer server = new WatchedServer(proc, 42);
    WatchedServer.Mark mark = server.mark();
    write(after);
    return server.since(mark, units);
  }

  @Test
  void theCpuTimeIsGivenWholeAndWithoutTheCompilerThreads() throws IOException {
    // Over ten workflows: 1.5 s more of the process's CPU time, 0.4 s of it the compiler's.
    WatchedServer.Usage usage = used(new Reading(1000, 200, 300, 150_000), new Reading(1120, 230, 340, 204_800), 10);

    assertThat(usage.pid()).isEqualTo(42);
    assertThat(usage.cpuMsPerUnit()).isEqualTo(150.0);
    assertThat(usage.cpuMsPerUnitWithoutCompiler()).isEqualTo(110.0);
    assertThat(usage.peakRssMb()).isCloseTo(200.0, within(1e-9));
    assertThat(usage.describe("workflow")).startsWith("CPU 150.000 ms/workflow (110.000 without the JIT compilers), "
        + "JIT compiler busy ").endsWith("peak RSS 200 MB (pid 42)");
  }

  @Test
  void withoutTheCompilerTheCpuTimeIsNeverBelowZero() throws IOException {
    // Ticks of 10 ms read a moment apart: the compiler's reading can run ahead of the process's.
    WatchedServer.Usage usage = used(new Reading(1000, 0, 300, 1024), new Reading(1001, 0, 303, 1024), 1);
    assertThat(usage.cpuMsPerUnitWithoutCompiler()).isZero();
  }
}
