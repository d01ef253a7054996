package dev.perdura.server.matching;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A waiting poll taken by a history change that creates a task: the change records the task as
 * started by this poller in the same write, so the task skips the queue and the poller's own
 * start write. Once the write is durable the change {@linkplain #fulfil fulfils} the reservation
 * with the poll's response; if the write fails it {@linkplain #release releases} it and the poll
 * waits for another task.
 *
 * <p>The poll's future stays incomplete until then, and the poller can no longer withdraw it: the
 * poller wakes once, with its answer, and a task started for it is never left without a worker.
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
  private final TaskQueueDispatcher.WaitingPoll poll;

  PollReservation(Poller poller, TaskQueueDispatcher.WaitingPoll poll) {
    this.poller = poller;
    this.poll = poll;
  }

  public Poller poller() {
    return poller;
  }

  /**
   * The task's start is durable. {@code response} builds the poll's answer; the poll decides on
   * which thread (it may read the store).
   */
  public void fulfil(Supplier<?> response) {
    poll.complete(new Dispatch.Started(response));
  }

  /** Nothing was started for this poll (the write failed); the poll may wait for another task. */
  public void release() {
    poll.complete(new Dispatch.NotStarted());
  }
}
