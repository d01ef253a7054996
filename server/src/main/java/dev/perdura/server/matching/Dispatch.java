package dev.perdura.server.matching;

import dev.perdura.server.store.TaskRow;

/** What a waiting poll receives from its task queue. */
public sealed interface Dispatch {

  /** A backlog or newly added task; the poller records its start in history, then answers. */
  record Queued(TaskRow task) implements Dispatch {}

  /**
   * A task that a history change started for this poll in the same write that created it (see
   * {@link TaskQueueDispatcher#reserveWaitingPoll()}); the poller answers once that write is durable.
   */
  record Started(PollReservation reservation) implements Dispatch {}
}
