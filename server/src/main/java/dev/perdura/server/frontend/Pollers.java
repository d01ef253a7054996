package dev.perdura.server.frontend;

import dev.perdura.server.store.TaskKind;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the frontend knows of the workers polling it. Two things, both in memory only:
 *
 * <ul>
 *   <li>who polled each task queue lately, for {@code DescribeTaskQueue};
 *   <li>the long polls waiting now, by worker, so that {@code ShutdownWorker} ends them at once instead of
 *       at their deadline (a worker shutting down would otherwise wait up to a minute for its own polls).
 * </ul>
 *
 * <p>A worker is named by its {@code worker_instance_key}, which SDKs make unique per worker; polls
 * without one cannot be told apart from other workers of the same process and are left alone. A
 * shut-down key is remembered for a while, so a poll that raced with the shutdown also ends at once.
 */
final class Pollers {
  static final long REMEMBER_SHUTDOWN_MILLIS = 120_000;
  /** Pollers not seen for this long are no longer listed (Temporal lists the last five minutes too). */
  static final long POLLER_TTL_MILLIS = 300_000;

  /** A task queue of one kind in one namespace. */
  record QueueId(String namespace, String taskQueue, TaskKind kind) {}

  /** One poller of a queue as DescribeTaskQueue shows it. */
  record Poller(String identity, long lastAccessMillis) {}

  private final Clock clock;
  private final ConcurrentHashMap<String, Set<CompletableFuture<?>>> waiting = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> shutDownAt = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<QueueId, ConcurrentHashMap<String, Long>> lastPolls = new ConcurrentHashMap<>();

  Pollers(Clock clock) {
    this.clock = clock;
  }

  /** Notes a poll of a queue by a worker identity, now. */
  void polled(QueueId queue, String identity) {
    long now = clock.millis();
    ConcurrentHashMap<String, Long> pollers = lastPolls.computeIfAbsent(queue, q -> new ConcurrentHashMap<>());
    pollers.put(identity, now);
    // Forget the long gone, so that a fleet of short-lived workers cannot grow this without bound.
    if (pollers.size() > 64) {
      pollers.values().removeIf(at -> now - at >= POLLER_TTL_MILLIS);
    }
  }

  /** The queue's pollers seen within the last {@link #POLLER_TTL_MILLIS}, most recent first. */
  List<Poller> pollers(QueueId queue) {
    long now = clock.millis();
    Map<String, Long> pollers = lastPolls.getOrDefault(queue, new ConcurrentHashMap<>());
    return pollers.entrySet().stream()
        .filter(e -> now - e.getValue() < POLLER_TTL_MILLIS)
        .map(e -> new Poller(e.getKey(), e.getValue()))
        .sorted(Comparator.comparingLong(Poller::lastAccessMillis).reversed())
        .toList();
  }

  /** The key of a worker, or null when the poll names no worker instance. */
  static String key(String namespace, String workerInstanceKey) {
    return workerInstanceKey.isEmpty() ? null : namespace + "\n" + workerInstanceKey;
  }

  boolean isShutDown(String key) {
    if (key == null) {
      return false;
    }
    Long at = shutDownAt.get(key);
    return at != null && clock.millis() - at < REMEMBER_SHUTDOWN_MILLIS;
  }

  /** Tracks a waiting poll; cancels it at once when its worker has already shut down. */
  void waiting(String key, CompletableFuture<?> poll) {
    if (key == null) {
      return;
    }
    waiting.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(poll);
    if (isShutDown(key)) {
      poll.cancel(false);
    }
  }

  void done(String key, CompletableFuture<?> poll) {
    if (key == null) {
      return;
    }
    waiting.computeIfPresent(key, (k, polls) -> {
      polls.remove(poll);
      return polls.isEmpty() ? null : polls;
    });
  }

  /** Ends the worker's waiting polls; returns how many there were. */
  int shutdown(String key) {
    long now = clock.millis();
    shutDownAt.values().removeIf(at -> now - at >= REMEMBER_SHUTDOWN_MILLIS);
    shutDownAt.put(key, now);
    Set<CompletableFuture<?>> polls = waiting.remove(key);
    if (polls == null) {
      return 0;
    }
    polls.forEach(poll -> poll.cancel(false));
    return polls.size();
  }
}
