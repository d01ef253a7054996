package dev.perdura.server.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.store.Lease;
import dev.perdura.server.store.LeaseLostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Commits of several shards: grouped while others are written, and failures kept to their own commit. */
class CommitGroupTest {
  private final List<List<String>> groups = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
  private final Map<String, Thread> threads = new ConcurrentHashMap<>();
  private final Set<String> inWriter = ConcurrentHashMap.newKeySet();
  private final List<Thread> started = new ArrayList<>();

  @AfterEach
  void releaseAll() throws InterruptedException {
    holds.values().forEach(CountDownLatch::countDown);
    for (Thread t : started) {
      t.join(10_000);
    }
  }

  /** Records each group; a group holding a commit whose lease name has a hold waits for its release. */
  private CommitGroup group(int writers) {
    return new CommitGroup(writers, group -> {
      List<String> names = group.stream().map(p -> p.lease().name()).toList();
      groups.add(names);
      inWriter.addAll(names);
      try {
        for (String name : names) {
          CountDownLatch hold = holds.get(name);
          if (hold != null && !hold.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        inWriter.removeAll(names);
      }
      if (names.contains("lost")) {
        throw new LeaseLostException("lease lost");
      }
    });
  }

  private Future<Void> commit(CommitGroup group, String name) {
    FutureTask<Void> task = new FutureTask<>(() -> {
      group.commit(List.of(), new Lease(name, "node", "a:1", 1));
      return null;
    });
    Thread thread = Thread.ofPlatform().name("commit-" + name).start(task);
    threads.put(name, thread);
    started.add(thread);
    return task;
  }

  private void hold(String name) {
    holds.put(name, new CountDownLatch(1));
  }

  private void release(String name) {
    holds.get(name).countDown();
  }

  @Test
  void commitsThatArriveWhileOneIsWrittenAreWrittenTogetherNext() throws Exception {
    CommitGroup group = group(1);
    hold("first");
    Future<Void> first = commit(group, "first");
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.contains("first"));
    List<Future<Void>> later = List.of(commit(group, "a"), commit(group, "b"), commit(group, "c"));
    await().atMost(Duration.ofSeconds(10)).until(() -> group.queued() == 3);

    release("first");
    first.get(10, TimeUnit.SECONDS);
    for (Future<Void> f : later) {
      f.get(10, TimeUnit.SECONDS);
    }

    assertThat(groups).hasSize(2);
    assertThat(groups.get(0)).containsExactly("first");
    assertThat(groups.get(1)).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(group.transactions()).isEqualTo(2);
    assertThat(group.commits()).isEqualTo(4);
  }

  @Test
  void aGroupThatFailsIsWrittenAgainOneByOneAndOnlyTheFailingCommitFails() throws Exception {
    CommitGroup group = group(1);
    hold("first");
    Future<Void> first = commit(group, "first");
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.contains("first"));
    Future<Void> a = commit(group, "a");
    Future<Void> lost = commit(group, "lost");
    Future<Void> b = commit(group, "b");
    await().atMost(Duration.ofSeconds(10)).until(() -> group.queued() == 3);

    release("first");
    first.get(10, TimeUnit.SECONDS);
    a.get(10, TimeUnit.SECONDS);
    b.get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> lost.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(LeaseLostException.class);

    assertThat(groups.get(1)).containsExactlyInAnyOrder("a", "lost", "b");
    assertThat(groups.subList(2, groups.size())).containsExactlyInAnyOrder(List.of("a"), List.of("lost"), List.of("b"));
    assertThat(group.transactions()).as("first, then a and b alone").isEqualTo(3);
    assertThat(group.commits()).isEqualTo(3);
  }

  @Test
  void severalWritersWriteAtOnce() throws Exception {
    CommitGroup group = group(2);
    hold("x");
    hold("y");
    Future<Void> x = commit(group, "x");
    // One at a time: queued together, x's writer would take both in one group.
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.contains("x"));
    Future<Void> y = commit(group, "y");

    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.containsAll(List.of("x", "y")));
    release("x");
    release("y");
    x.get(10, TimeUnit.SECONDS);
    y.get(10, TimeUnit.SECONDS);
    assertThat(groups).containsExactlyInAnyOrder(List.of("x"), List.of("y"));
  }

  @Test
  void aCommitTakenByAnotherWriterIsAwaitedWithoutSpinning() throws Exception {
    CommitGroup group = group(2);
    hold("x");
    hold("y");
    hold("a");
    Future<Void> x = commit(group, "x");
    // One at a time, so that x and y hold both writers: queued together, x's writer would take both.
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.contains("x"));
    Future<Void> y = commit(group, "y");
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.containsAll(List.of("x", "y")));
    List<Future<Void>> followers = List.of(commit(group, "a"), commit(group, "b"), commit(group, "c"));
    await().atMost(Duration.ofSeconds(10)).until(() -> group.queued() == 3);
    release("x");
    await().atMost(Duration.ofSeconds(10)).until(() -> inWriter.contains("a"));
    // A writer is free now, and the queue empty: the commits taken with "a" wait for that write.
    release("y");
    y.get(10, TimeUnit.SECONDS);
    // The writer of "a" waits for its release; the other two wait for its outcome, parked throughout.
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).until(() -> List.of("a", "b", "c").stream()
        .allMatch(name -> threads.get(name).getState() == Thread.State.TIMED_WAITING));

    release("a");
    x.get(10, TimeUnit.SECONDS);
    for (Future<Void> f : followers) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(groups).hasSize(3);
  }
}
