package dev.perdura.internal.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.converter.PayloadConverter;
import dev.perdura.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A run is handled by one workflow task at a time on a worker: a task of a run whose previous task
 * is still being answered waits for the run instead of replaying it a second time beside it.
 */
class WorkflowCacheBusyRunTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  public static class Noop {
    @WorkflowMethod
    public String run() {
      return "";
    }
  }

  private final WorkflowCache cache = new WorkflowCache(10);
  private final WorkflowRun run = newRun();

  private static WorkflowRun newRun() {
    WorkflowRegistry registry = new WorkflowRegistry();
    registry.register(Noop.class);
    return new WorkflowRun(registry.lookup("Noop").orElseThrow(), PayloadConverter.defaultConverter());
  }

  @AfterEach
  void close() {
    run.close();
  }

  private CompletableFuture<WorkflowCache.Entry> takeInAnotherThread(String runId, Duration timeout) {
    CompletableFuture<WorkflowCache.Entry> taken = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        taken.complete(cache.take(runId, timeout));
      } catch (Throwable t) {
        taken.completeExceptionally(t);
      }
    });
    return taken;
  }

  @Test
  void aSecondTaskOfTheRunWaitsUntilTheFirstPutsItBack() throws Exception {
    assertThat(cache.take("run-1", WAIT)).as("first task of the run: nothing cached").isNull();
    CompletableFuture<WorkflowCache.Entry> second = takeInAnotherThread("run-1", WAIT);
    await().during(200, TimeUnit.MILLISECONDS).atMost(5, TimeUnit.SECONDS).until(() -> !second.isDone());

    cache.put("run-1", run, 7);

    WorkflowCache.Entry entry = second.get(30, TimeUnit.SECONDS);
    assertThat(entry.run()).isSameAs(run);
    assertThat(entry.lastEventId()).isEqualTo(7);
    assertThat(cache.size()).as("taken out again while the second task works").isZero();
  }

  @Test
  void aReleasedRunLetsTheWaitingTaskReplayFromScratch() throws Exception {
    cache.put("run-2", run, 3);
    assertThat(cache.take("run-2", WAIT).run()).isSameAs(run);
    CompletableFuture<WorkflowCache.Entry> second = takeInAnotherThread("run-2", WAIT);

    cache.release("run-2");

    assertThat(second.get(30, TimeUnit.SECONDS)).isNull();
  }

  @Test
  void otherRunsAreNotHeldUpAndABusyRunFailsTheWaitAfterItsTimeout() throws Exception {
    cache.put("other", run, 5);
    cache.take("busy", WAIT);

    assertThat(cache.take("other", WAIT).run()).isSameAs(run);
    assertThatThrownBy(() -> cache.take("busy", Duration.ofMillis(50)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("run busy is still busy");
  }
}
