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
  /** A clock that each round moves by one second of wall time and the given compiler milliseconds. */
  private static final class RoundClock implements JitWarmup.Clock {
    private final ArrayDeque<Long> compilerMillisPerRound;
    private long compilation;
    private long nanos;

    RoundClock(List<Long> compilerMillisPerRound) {
      this.compilerMillisPerRound = new ArrayDeque<>(compilerMillisPerRound);
    }

    void round() {
      nanos += 1_000_000_000L;
      compilation += compilerMillisPerRound.isEmpty() ? 0 : compilerMillisPerRound.poll();
    }

    @Override
    public long compilationMillis() {
      return compilation;
    }

    @Override
    public long nanoTime() {
      return nanos;
    }
  }

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream progress = new PrintStream(printed, true, StandardCharsets.UTF_8);

  @Test
  void warmsUpUntilTheCompilerIsBusyLessThanTheBoundInTwoRoundsInARow() {
    // A quiet round (the third) followed by a busy one does not end it.
    RoundClock clock = new RoundClock(List.of(900L, 400L, 30L, 120L, 40L, 10L, 0L));
    JitWarmup.Outcome outcome = new JitWarmup(clock).warmUntilQuiet(clock::round, 5, Duration.ofMinutes(5), progress);

    assertThat(outcome.rounds()).isEqualTo(6);
    assertThat(outcome.quiet()).isTrue();
    assertThat(outcome.lastCompilerBusyPercent()).isCloseTo(1.0, offset(1e-9));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("warm-up round 1: JIT compiler busy 90 % of it", "warm-up round 6: JIT compiler busy 1 % of it")
        .doesNotContain("round 7");
  }

  @Test
  void stopsAtTheLimitWhenTheCompilerStaysBusy() {
    RoundClock clock = new RoundClock(List.of(900L, 800L, 700L, 600L, 500L, 400L));
    JitWarmup.Outcome outcome = new JitWarmup(clock).warmUntilQuiet(clock::round, 5, Duration.ofSeconds(3), progress);

    assertThat(outcome.rounds()).isEqualTo(3);
    assertThat(outcome.quiet()).isFalse();
    assertThat(outcome.lastCompilerBusyPercent()).isCloseTo(70.0, offset(1e-9));
  }

  @Test
  void aJvmThatDoesNotReportItsCompilerRunsOneRound() {
    JitWarmup.Clock unknown = new JitWarmup.Clock() {
      private long nanos;

      @Override
      public long compilationMillis() {
        return -1;
      }

      @Override
      public long nanoTime() {
        return nanos += 1_000_000;
      }
    };
    JitWarmup.Outcome outcome = new JitWarmup(unknown).warmUntilQuiet(() -> { }, 5, Duration.ofMinutes(5), progress);

    assertThat(outcome.rounds()).isEqualTo(1);
    assertThat(outcome.lastCompilerBusyPercent()).isNaN();
    assertThat(printed.toString(StandardCharsets.UTF_8)).contains("does not report");
  }

  @Test
  void aWindowIsTheCompilerTimeOverTheWallTimeSinceItBegan() {
    RoundClock clock = new RoundClock(List.of(250L, 1500L));
    JitWarmup.Window window = new JitWarmup(clock).window();
    clock.round();
    assertThat(window.compilerBusyPercent()).isCloseTo(25.0, offset(1e-9));
    clock.round();
    assertThat(window.compilerBusyPercent()).as("two compiler threads at once exceed 100 %")
        .isCloseTo(87.5, offset(1e-9));
  }
}
