package dev.perdura.server.matching;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A waiting poll taken by a history change that creates a task: the change records the task as
 * started by this poller in the same write, so the task skips the queue and the poller's own
 * start write. Once the write is durable the change {@linkplain #fulfil fulfils} the reservation
 * with the poll's response; if the write fails it {@linkplain #release releases} it and the poll
 * waits for another task.
 */
public final class PollReservation {

  /** Who is polling: recorded as the worker that started the task. */
  public record Poller(String identity, String requestId) {
    public Poller {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(requestId, "requestId");
    }
  }

  private final Poller poller;
  private final CompletableFuture<Optional<Supplier<?>>> outcome = new CompletableFuture<>();

  PollReservation(Poller poller) {
    this.poller = poller;
  }

  public Poller poller() {
    return poller;
  }

  /**
   * The task's start is durable. {@code response} builds the poll's answer; it runs in the
   * poller's thread, not in the caller's.
   */
  public void fulfil(Supplier<?> response) {
    outcome.complete(Optional.of(response));
  }

  /** Nothing was started for this poll (the write failed); the poll may wait for another task. */
  public void release() {
    outcome.complete(Optional.empty());
  }

  /**
   * Waits for the change's outcome: the response builder, or empty when released.
   *
   * @throws TimeoutException if the change has not finished within the time given
   */
  public Optional<Supplier<?>> await(long timeoutMillis) throws TimeoutException, InterruptedException {
    try {
      return outcome.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a poll reservation never fails", e);
    }
  }
}
