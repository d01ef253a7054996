package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What running activities see when their worker shuts down, and what the server does with them. */
class ActivityWorkerShutdownTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();

  static void record(String key, String entry) {
    journal.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(entry);
  }

  public static class ShutdownAware {
    /** The seed's graceful_shutdown_activity: checks for shutdown between items, saves partial results. */
    @ActivityMethod
    public String gracefulShutdownActivity(String key) throws InterruptedException {
      record(key, "start on attempt " + Activity.info().attempt());
      List<String> results = new CopyOnWriteArrayList<>();
      for (int i = 0; i < 200; i++) {
        results.add("item-" + i);
        Activity.heartbeat(results.size());
        if (Activity.waitForWorkerShutdown(Duration.ofMillis(100))) {
          record(key, "saved " + results.size() + " results, shutdown=" + Activity.isWorkerShutdown());
          throw new IllegalStateException("Worker shutdown, saved " + results.size() + " results");
        }
      }
      return "all done";
    }

    /** Ignores the shutdown flag; is cancelled with reason worker_shutdown when the grace period ends. */
    @ActivityMethod
    public String stubbornActivity(String key) throws InterruptedException {
      record(key, "start on attempt " + Activity.info().attempt());
      if (Activity.info().attempt() > 1) {
        return "finished elsewhere";
      }
      try {
        Thread.sleep(Duration.ofMinutes(5));
        return "slept";
      } catch (InterruptedException e) {
        record(key, "interrupted: " + Activity.cancellationDetails().orElseThrow().reason());
        throw e;
      }
    }
  }

  @Test
  void activitiesSeeTheShutdownAtOnceAndTheRestAreCancelledAfterTheGracePeriod() throws Exception {
    Scenario scenario = Scenario.on(perdura)
        .activities(WorkerOptions.DEFAULTS.withShutdownGracePeriod(Duration.ofSeconds(1)), new ShutdownAware());
    String graceful = UUID.randomUUID().toString();
    String stubborn = UUID.randomUUID().toString();
    var first = scenario.start(scenario.plan("gracefulShutdownActivity", graceful).withAttempts(1));
    var second = scenario.start(scenario.plan("stubbornActivity", stubborn).withAttempts(2));
    await().atMost(Duration.ofSeconds(20))
        .until(() -> journal.containsKey(graceful) && journal.containsKey(stubborn));

    Worker worker = scenario.worker();
    long before = System.nanoTime();
    worker.shutdown();
    assertThat(worker.isShutdown()).isTrue();
    assertThat(worker.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));

    assertThat(journal.get(graceful)).anySatisfy(e -> assertThat(e).startsWith("saved").endsWith("shutdown=true"));
    assertThat(scenario.result(first))
        .startsWith("failed: java.lang.IllegalStateException: Worker shutdown, saved");
    assertThat(journal.get(stubborn)).contains("interrupted: WORKER_SHUTDOWN");

    // The server retries the attempt the shutdown cut short, on another worker.
    Worker replacement = Worker.create(perdura.client(), scenario.activityQueue());
    perdura.closeAfterTest(replacement);
    replacement.registerActivities(new ShutdownAware()).start();
    assertThat(scenario.result(second)).isEqualTo("finished elsewhere");
  }
}
