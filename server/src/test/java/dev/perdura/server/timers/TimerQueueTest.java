package dev.perdura.server.timers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TimerRow;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TimerQueueTest {
  private static final ExecutionKey RUN_A = new ExecutionKey("ns", "wf-a", "run-a");
  private static final ExecutionKey RUN_B = new ExecutionKey("ns", "wf-b", "run-b");

  private final List<String> fired = new CopyOnWriteArrayList<>();
  private final Clock clock = Clock.systemUTC();
  private final TimerQueue queue = new TimerQueue(clock, t -> fired.add(t.execution().workflowId() + "/" + t.timerKey()));

  @AfterEach
  void close() {
    queue.close();
  }

  private TimerRow at(ExecutionKey run, String key, long delayMillis) {
    return new TimerRow(run, key, clock.millis() + delayMillis);
  }

  @Test
  void timersFireInTimeOrder() {
    queue.schedule(at(RUN_A, "late", 300));
    queue.schedule(at(RUN_A, "early", 50));
    queue.schedule(at(RUN_B, "middle", 150));
    queue.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 3);
    assertThat(fired).containsExactly("wf-a/early", "wf-b/middle", "wf-a/late");
    assertThat(queue.size()).isZero();
  }

  @Test
  void schedulingAKeyAgainMovesTheTimerInsteadOfAddingOne() {
    queue.schedule(at(RUN_A, "heartbeat", 100));
    queue.schedule(at(RUN_A, "heartbeat", 400));
    queue.schedule(at(RUN_B, "marker", 800));
    assertThat(queue.size()).isEqualTo(2);
    queue.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> fired.contains("wf-b/marker"));
    assertThat(fired).containsExactly("wf-a/heartbeat", "wf-b/marker");
  }

  @Test
  void cancelledTimersNeverFireAndAreNotKept() {
    queue.schedule(at(RUN_A, "start-to-close", 100));
    queue.schedule(at(RUN_A, "kept", 150));
    queue.schedule(at(RUN_B, "run-timeout", 100));
    queue.schedule(at(RUN_B, "another", 100));
    queue.schedule(at(RUN_A, "marker", 600));

    queue.cancel(RUN_A, "start-to-close");
    queue.cancel(RUN_A, "never-armed");
    queue.cancelAll(RUN_B);
    assertThat(queue.size()).isEqualTo(2);
    queue.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> fired.contains("wf-a/marker"));
    assertThat(fired).containsExactly("wf-a/kept", "wf-a/marker");
    assertThat(queue.size()).isZero();
  }
}
