package dev.perdura.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.Storage;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.TestPostgres;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.LeaseLostException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The active server's lease in PostgreSQL: one holder at a time, and a lost lease fences commits. */
class LeaseTest {
  private PostgresStore a;
  private PostgresStore b;

  @BeforeEach
  void open() {
    Storage.Postgres database = TestPostgres.get().newDatabase("lease");
    a = PostgresStore.open(database);
    b = PostgresStore.open(database);
    a.migrate();
    b.migrate();
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  private static ExecutionWrite newRun(String workflowId) {
    ExecutionKey key = new ExecutionKey("default", workflowId, "run-" + workflowId);
    VisibilityRow visibility = new VisibilityRow("T", "q", 1, 1, 0, 1, 1, key.runId(), new byte[0], new byte[0]);
    return new ExecutionWrite(new ExecutionRow(key, 1, new byte[] {1}, visibility), 0, true, List.of(), false, false);
  }

  @Test
  void oneHolderAtATimeUntilTheLeaseExpires() {
    Lease first = a.tryAcquireLease("l", "node-a", "a:1", 60_000).orElseThrow();
    assertThat(first.version()).isEqualTo(1);
    assertThat(b.tryAcquireLease("l", "node-b", "b:1", 60_000)).isEmpty();
    assertThat(b.leaseHolder("l")).contains(first);
    assertThat(a.renewLease(first, 60_000)).isTrue();
  }

  @Test
  void aTakeoverAfterExpiryFencesTheFormerHoldersCommits() {
    Lease first = a.tryAcquireLease("l", "node-a", "a:1", 300).orElseThrow();
    a.commit(List.of(newRun("before")), first);

    Lease second = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> b.tryAcquireLease("l", "node-b", "b:1", 60_000).orElse(null), l -> l != null);
    assertThat(second.version()).isEqualTo(2);

    assertThat(a.renewLease(first, 60_000)).isFalse();
    assertThatThrownBy(() -> a.commit(List.of(newRun("after")), first))
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining("another server took over");
    assertThat(b.findExecution(new ExecutionKey("default", "after", "run-after"))).isEmpty();
    assertThat(b.findExecution(new ExecutionKey("default", "before", "run-before"))).isPresent();
    b.commit(List.of(newRun("by-b")), second);
    assertThat(a.findCurrentRunId("default", "by-b")).contains("run-by-b");
  }

  @Test
  void commitsOfSeveralShardsAtOnceFailOnlyUnderTheLeaseThatWasLost() throws Exception {
    Lease kept1 = a.tryAcquireLease("shard:1", "node-a", "a:1", 60_000).orElseThrow();
    Lease kept2 = a.tryAcquireLease("shard:2", "node-a", "a:1", 60_000).orElseThrow();
    Lease lost = a.tryAcquireLease("shard:3", "node-a", "a:1", 300).orElseThrow();
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> b.tryAcquireLease("shard:3", "node-b", "b:1", 60_000).isPresent());

    // Many at once, so that they queue behind each other and are written in groups.
    List<java.util.concurrent.Future<?>> kept = new java.util.ArrayList<>();
    List<java.util.concurrent.Future<?>> fenced = new java.util.ArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 20; i++) {
        int n = i;
        kept.add(threads.submit(() -> a.commit(List.of(newRun("one-" + n)), kept1)));
        fenced.add(threads.submit(() -> a.commit(List.of(newRun("lost-" + n)), lost)));
        kept.add(threads.submit(() -> a.commit(List.of(newRun("two-" + n)), kept2)));
      }
    }

    for (var f : kept) {
      f.get();
    }
    for (var f : fenced) {
      assertThatThrownBy(f::get).hasCauseInstanceOf(LeaseLostException.class)
          .hasMessageContaining("shard:3");
    }
    assertThat(a.fencedCommits()).isEqualTo(40);
    assertThat(a.fencedTransactions()).isBetween(1L, 40L);
    for (int i = 0; i < 20; i++) {
      assertThat(b.findCurrentRunId("default", "one-" + i)).contains("run-one-" + i);
      assertThat(b.findCurrentRunId("default", "two-" + i)).contains("run-two-" + i);
      assertThat(b.findCurrentRunId("default", "lost-" + i)).isEmpty();
    }
  }

  @Test
  void theLeaseTableListsHoldersAndWhetherTheyAreLive() {
    Lease live = a.tryAcquireLease("shard:1", "node-a", "a:1", 60_000).orElseThrow();
    Lease gone = b.tryAcquireLease("shard:2", "node-b", "b:1", 60_000).orElseThrow();
    b.releaseLease(gone);
    a.tryAcquireLease("node:a", "node-a", "a:1", 60_000).orElseThrow();

    assertThat(a.leases("shard:")).containsExactlyInAnyOrder(
        new PostgresStore.LeaseRow(live, true), new PostgresStore.LeaseRow(gone, false));
    assertThat(a.leases("")).hasSize(3);
    assertThat(a.deleteExpiredLeases("shard:", 0)).isEqualTo(1);
    assertThat(a.leases("shard:")).extracting(row -> row.lease().name()).containsExactly("shard:1");
  }

  @Test
  void aReleasedLeaseIsFreeAtOnce() {
    Lease first = a.tryAcquireLease("l", "node-a", "a:1", 60_000).orElseThrow();
    a.releaseLease(first);
    assertThat(b.leaseHolder("l")).isEmpty();
    assertThat(b.tryAcquireLease("l", "node-b", "b:1", 60_000)).hasValueSatisfying(l -> {
      assertThat(l.owner()).isEqualTo("node-b");
      assertThat(l.version()).isEqualTo(2);
    });
  }
}
