package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Who computes a shard's batches: a caller that finds the shard idle, or the writer thread. */
class HistoryShardTest {
  private static final HistoryShard.CommitListener NO_LISTENER = new HistoryShard.CommitListener() {
    @Override
    public void prepared(Tx tx) {}

    @Override
    public void committed(ExecutionWrite write, Execution execution) {}
  };

  private SqliteStore store;
  private HistoryShard shard;

  @BeforeEach
  void start() {
    store = SqliteStore.inMemory();
    store.migrate();
    shard = new HistoryShard(7, store, null, Clock.systemUTC(), new SimpleMeterRegistry(), NO_LISTENER);
    shard.start();
  }

  @AfterEach
  void stop() {
    shard.close();
    store.close();
  }

  private static ExecutionState newRun(String workflowId) {
    ExecutionState state = new ExecutionState();
    state.namespace = "default";
    state.workflowId = workflowId;
    state.runId = "run-" + workflowId;
    state.firstRunId = state.runId;
    state.workflowType = "T";
    state.taskQueue = "q";
    state.status = Statuses.RUNNING;
    return state;
  }

  @Test
  void aWorkflowIdMadeCurrentAfterTheScanIsFoundOnceItLeftTheCache() throws Exception {
    HistoryShard filtered = new HistoryShard(3, store, null, Clock.systemUTC(), new SimpleMeterRegistry(), NO_LISTENER);
    filtered.learnWorkflowIds(run -> true);
    filtered.start();
    try {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(filtered::knowsWorkflowIds);
      // More new runs than the shard keeps current runs of in memory: the first ones are then
      // found through the filter and the store.
      for (int batch = 0; batch < 50; batch++) {
        int first = batch * 100;
        filtered.submit(tx -> {
          for (int i = first; i < first + 100; i++) {
            tx.create(newRun("wf-" + i));
          }
          return null;
        }).get(30, TimeUnit.SECONDS);
      }

      assertThat(filtered.submit(tx -> tx.currentRunId("default", "wf-0")).get(30, TimeUnit.SECONDS))
          .contains("run-wf-0");
      assertThat(filtered.submit(tx -> tx.currentRunId("default", "never-started")).get(30, TimeUnit.SECONDS))
          .isEmpty();
    } finally {
      filtered.close();
    }
  }

  @Test
  void aVirtualThreadHandsItsChangeToTheWriterThreadToo() throws Exception {
    try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
      String ranOn = threads.submit(() -> shard.submit(tx -> Thread.currentThread().getName()).join())
          .get(30, TimeUnit.SECONDS);
      assertThat(ranOn).isEqualTo("history-shard-7");
    }
  }

  @Test
  void aPlatformThreadHandsItsChangeToTheWriterThread() throws Exception {
    String ranOn = shard.submit(tx -> Thread.currentThread().getName()).get(30, TimeUnit.SECONDS);

    assertThat(ranOn).isEqualTo("history-shard-7");
  }

  @Test
  void aChangeSubmittedFromInsideABatchIsComputedInALaterOneByTheWriterThread() throws Exception {
    AtomicReference<CompletableFuture<String>> inner = new AtomicReference<>();
    try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
      threads.submit(() -> shard.submit(tx -> {
        inner.set(shard.submit(nested -> Thread.currentThread().getName()));
        return null;
      }).join()).get(30, TimeUnit.SECONDS);
    }

    assertThat(inner.get().get(30, TimeUnit.SECONDS)).isEqualTo("history-shard-7");
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void everyChangeOfManyConcurrentCallersIsComputedExactlyOnce() throws Exception {
    int callers = 500;
    Set<Integer> computed = ConcurrentHashMap.newKeySet();
    List<Integer> twice = new ArrayList<>();
    List<Future<Integer>> results = new ArrayList<>();
    try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < callers; i++) {
        int id = i;
        results.add(threads.submit(() -> shard.submit(tx -> {
          if (!computed.add(id)) {
            synchronized (twice) {
              twice.add(id);
            }
          }
          return id;
        }).get(30, TimeUnit.SECONDS)));
      }
      for (int i = 0; i < callers; i++) {
        assertThat(results.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
      }
    }
    assertThat(computed).hasSize(callers);
    assertThat(twice).isEmpty();
  }
}
