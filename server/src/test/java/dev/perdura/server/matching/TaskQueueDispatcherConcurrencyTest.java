package dev.perdura.server.matching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.store.TaskRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Polls withdrawn at random while tasks arrive: every task must still be dispatched once. */
class TaskQueueDispatcherConcurrencyTest {
  private static final int ADDERS = 4;
  private static final int TASKS_PER_ADDER = 5_000;
  private static final int POLLERS = 8;
  private static final int TOTAL = ADDERS * TASKS_PER_ADDER;

  private final TaskQueueDispatcher dispatcher = TaskFixtures.dispatcher();
  private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
  private final AtomicInteger delivered = new AtomicInteger();
  private final AtomicBoolean stop = new AtomicBoolean();

  @Test
  void everyTaskIsDispatchedExactlyOnceDespiteWithdrawnPolls() throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < POLLERS; i++) {
      threads.add(Thread.ofPlatform().name("poller-" + i).start(this::pollUntilStopped));
    }
    for (int i = 0; i < ADDERS; i++) {
      int adder = i;
      threads.add(Thread.ofPlatform().name("adder-" + i).start(() -> addTasks(adder)));
    }

    await().atMost(Duration.ofSeconds(20)).until(() -> delivered.get() >= TOTAL);
    // Each poller has at most one poll outstanding; withdrawn ones must not linger.
    assertThat(dispatcher.waitingPollers()).isLessThanOrEqualTo(POLLERS);

    stop.set(true);
    dispatcher.close();
    for (Thread thread : threads) {
      thread.join(Duration.ofSeconds(10));
      assertThat(thread.isAlive()).as(thread.getName() + " finished").isFalse();
    }

    assertThat(delivered.get()).isEqualTo(TOTAL);
    assertThat(deliveries).hasSize(TOTAL);
    assertThat(deliveries.values()).allMatch(count -> count.get() == 1, "delivered once");
    assertThat(dispatcher.backlogSize()).isZero();
    assertThat(dispatcher.waitingPollers()).isZero();
  }

  private void addTasks(int adder) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; i < TASKS_PER_ADDER; i++) {
      String fairnessKey = "key-" + random.nextInt(5);
      dispatcher.add(
          TaskFixtures.task(
              "wf-" + adder, i, random.nextInt(6), fairnessKey, random.nextInt(1, 4)));
    }
  }

  private void pollUntilStopped() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (!stop.get()) {
      CompletableFuture<Dispatch> poll = dispatcher.poll(TaskFixtures.POLLER);
      if (random.nextInt(3) == 0) {
        // Withdraw the poll, sometimes a moment later so that it races with a hand-off.
        for (int spins = random.nextInt(200); spins > 0; spins--) {
          Thread.onSpinWait();
        }
        if (poll.cancel(false)) {
          continue;
        }
      }
      TaskRow task;
      try {
        task = TaskFixtures.queued(poll.join());
      } catch (CancellationException closed) {
        return;
      }
      String id = task.execution().workflowId() + "#" + task.scheduledEventId();
      deliveries.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      delivered.incrementAndGet();
    }
  }
}
