package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;

class JitWarmupTest {
  /** Wall time that each round moves by one second. */
  private static final class RoundClock {
    long nanos;
    final List<RoundCompiler> compilers;

    RoundClock(RoundCompiler... compilers) {
      this.compilers = List.of(compilers);
    }

    void round() {
      nanos += 1_000_000_000L;
      compilers.forEach(RoundCompiler::round);
    }

    JitWarmup warmup() {
      return new JitWarmup(compilers.stream().map(c -> new JitWarmup.Compiler(c.name, () -> c.millis)).toList(),
          () -> nanos);
    }
  }

  /** A compiler that each round spends the next of the given milliseconds. */
  private static final class RoundCompiler {
    final String name;
    final ArrayDeque<Long> millisPerRound;
    long millis;

    RoundCompiler(String name, List<Long> millisPerRound) {
      this.name = name;
      this.millisPerRound = new ArrayDeque<>(millisPerRound);
    }

    void round() {
      millis += millisPerRound.isEmpty() ? 0 : millisPerRound.poll();
    }
  }

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream progress = new PrintStream(printed, true, StandardCharsets.UTF_8);

  @Test
  void warmsUpUntilTheCompilerIsBusyLessThanTheBoundInTwoRoundsInARow() {
    // A quiet round (the third) followed by a busy one does not end it.
    RoundClock clock = new RoundClock(new RoundCompiler("client", List.of(900L, 400L, 30L, 120L, 40L, 10L, 0L)));
    JitWarmup.Outcome outcome = clock.warmup().warmUntilQuiet(clock::round, 5, Duration.ofMinutes(5), progress);

    assertThat(outcome.rounds()).isEqualTo(6);
    assertThat(outcome.quiet()).isTrue();
    assertThat(outcome.lastBusyPercents()).singleElement().satisfies(p -> assertThat(p).isCloseTo(1.0, offset(1e-9)));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("warm-up round 1: JIT compiler busy client 90 % of it",
            "warm-up round 6: JIT compiler busy client 1 % of it")
        .doesNotContain("round 7");
  }

  @Test
  void withAServerBothCompilersMustBeQuietInTheSameRounds() {
    // The client is quiet from round 2 on; the server's compiler keeps working until round 5.
    RoundClock clock = new RoundClock(new RoundCompiler("client", List.of(900L, 10L, 10L, 10L, 10L, 10L)),
        new RoundCompiler("server", List.of(800L, 700L, 20L, 300L, 40L, 30L)));
    JitWarmup.Outcome outcome = clock.warmup().warmUntilQuiet(clock::round, 5, Duration.ofMinutes(5), progress);

    assertThat(outcome.rounds()).isEqualTo(6);
    assertThat(outcome.lastBusyPercents()).containsExactly(1.0, 3.0);
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("warm-up round 4: JIT compiler busy client 1 %, server 30 % of it");
  }

  @Test
  void stopsAtTheLimitWhenTheCompilerStaysBusy() {
    RoundClock clock = new RoundClock(new RoundCompiler("client", List.of(900L, 800L, 700L, 600L, 500L, 400L)));
    JitWarmup.Outcome outcome = clock.warmup().warmUntilQuiet(clock::round, 5, Duration.ofSeconds(3), progress);

    assertThat(outcome.rounds()).isEqualTo(3);
    assertThat(outcome.quiet()).isFalse();
    assertThat(outcome.lastBusyPercents()).containsExactly(70.0);
  }

  @Test
  void aJvmThatDoesNotReportItsCompilerRunsOneRound() {
    long[] nanos = {0};
    JitWarmup unknown = new JitWarmup(List.of(new JitWarmup.Compiler("client", () -> -1)),
        () -> nanos[0] += 1_000_000);
    JitWarmup.Outcome outcome = unknown.warmUntilQuiet(() -> { }, 5, Duration.ofMinutes(5), progress);

    assertThat(outcome.rounds()).isEqualTo(1);
    assertThat(outcome.lastBusyPercents()).singleElement().satisfies(p -> assertThat(p).isNaN());
    assertThat(printed.toString(StandardCharsets.UTF_8)).contains("does not report");
  }

  @Test
  void aWindowIsTheCompilerTimeOverTheWallTimeSinceItBegan() {
    RoundClock clock = new RoundClock(new RoundCompiler("client", List.of(250L, 1500L)));
    JitWarmup.Window window = clock.warmup().window();
    clock.round();
    assertThat(window.compilerBusyPercent()).isCloseTo(25.0, offset(1e-9));
    clock.round();
    assertThat(window.compilerBusyPercent()).as("two compiler threads at once exceed 100 %")
        .isCloseTo(87.5, offset(1e-9));
  }

  @Test
  void onlyAClientThatIsStillCompilingIsCalledWarmingUp() {
    assertThat(JitWarmup.describeClientShare(3)).isEqualTo("compiler busy 3 % of the run");
    assertThat(JitWarmup.describeClientShare(40)).startsWith("compiler busy 40 % of the run (still warming up");
  }
}
