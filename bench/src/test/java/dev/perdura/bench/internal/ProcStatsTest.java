package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcStatsTest {
  @TempDir Path proc;

  /** A thread's stat line as Linux writes it, with utime and stime in clock ticks. */
  private void thread(long pid, long tid, String name, long utime, long stime) throws IOException {
    Path dir = Files.createDirectories(proc.resolve(pid + "/task/" + tid));
    Files.writeString(dir.resolve("stat"), tid + " (" + name + ") S 1 1 1 0 -1 4194368 100 0 0 0 " + utime + " "
        + stime + " 0 0 20 0 40 0 123 456 789\n");
  }

  @Test
  void countsTheCompilerThreadsOnlyAndKeepsTheTimeOfOnesThatEnded() throws IOException {
    thread(42, 43, "C2 CompilerThre", 300, 20);
    thread(42, 44, "C1 CompilerThre", 50, 0);
    thread(42, 45, "history-shard-0", 9000, 100);
    ProcStats.CompilerThreads compilers = new ProcStats.CompilerThreads(proc, 42);

    assertThat(compilers.millis()).isEqualTo((320 + 50) * 10);

    thread(42, 46, "C2 CompilerThre", 7, 3); // a second C2 thread, started as the queue grew
    assertThat(compilers.millis()).isEqualTo((320 + 50 + 10) * 10);

    Files.delete(proc.resolve("42/task/46/stat"));
    Files.delete(proc.resolve("42/task/46"));
    assertThat(compilers.millis()).as("a stopped compiler thread's time still counts").isEqualTo((320 + 50 + 10) * 10);
  }

  @Test
  void aThreadNameWithSpacesAndParenthesesIsReadWhole() {
    ProcStats.Stat stat = ProcStats.Stat.parse("7 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 5 6 7");
    assertThat(stat.name()).isEqualTo("a (b) c");
    assertThat(stat.ticks()).isEqualTo(33);
  }

  @Test
  void readsThisJvmsOwnCompilerFromProc() {
    long pid = ProcessHandle.current().pid();
    long compiler = new ProcStats.CompilerThreads(pid).millis();
    // By the time a test runs, this JVM has compiled the test framework's hot code.
    assertThat(compiler).isPositive().isLessThanOrEqualTo(ProcStats.cpuMillis(ProcStats.PROC, pid));
  }

  @Test
  void thisProcessCpuTimeFromTheJvmAgreesWithProc() {
    long fromProc = ProcStats.cpuMillis(ProcStats.PROC, ProcessHandle.current().pid());
    long fromJvm = ProcStats.thisProcessCpuMillis();
    long fromProcAfter = ProcStats.cpuMillis(ProcStats.PROC, ProcessHandle.current().pid());
    // /proc counts in ticks of 10 ms; the JVM's figure lies between the two readings, give or take a tick.
    assertThat(fromJvm).isBetween(fromProc - 10, fromProcAfter + 10);
  }
}
