package dev.perdura.internal.activity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.common.Priority;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.metrics.MetricMeter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A workflow may cancel a local activity before the activity's thread has bound itself (and so
 * before cancellation could interrupt it): binding then interrupts the thread, else user code that
 * blocks without heartbeats would never learn of the cancel.
 */
class CancelBeforeBindTest {
  private static ActivityExecution execution(boolean noThreadCancelException) {
    Instant now = Instant.now();
    ActivityInfo info = new ActivityInfo("a-1", "slow", 1, now, List.of(), Optional.empty(), true,
        Optional.empty(), now, Optional.of(Duration.ofMinutes(1)), now, "q", new byte[0], "default",
        Optional.of("wf"), Optional.of("run"), Optional.of("Wf"), Priority.DEFAULT, Optional.empty());
    return new ActivityExecution(info, null, noThreadCancelException, null, PayloadConverter.defaultConverter(),
        "test", new WorkerShutdownSignal(), MetricMeter.noop(), e -> HeartbeatSink.DROPPED);
  }

  @Test
  void aThreadBoundAfterTheCancelIsInterrupted() throws Exception {
    ActivityExecution execution = execution(false);
    assertThat(execution.cancel(Reason.CANCEL_REQUESTED)).isTrue();

    CompletableFuture<String> ended = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      execution.bind(Thread.currentThread());
      try {
        Thread.sleep(Duration.ofMinutes(5));
        ended.complete("slept through the cancel");
      } catch (InterruptedException e) {
        ended.complete("interrupted");
      } finally {
        execution.finish();
      }
    });

    assertThat(ended.get(30, TimeUnit.SECONDS)).isEqualTo("interrupted");
  }

  @Test
  void anActivityThatOptedOutIsNotInterruptedWhenItBinds() throws Exception {
    ActivityExecution execution = execution(true);
    execution.cancel(Reason.CANCEL_REQUESTED);

    CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      execution.bind(Thread.currentThread());
      interrupted.complete(Thread.currentThread().isInterrupted());
      execution.finish();
    });

    assertThat(interrupted.get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(execution.isCancelled()).isTrue();
  }
}
