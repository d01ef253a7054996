package dev.perdura.server.matching;

import dev.perdura.server.store.TaskRow;
import java.util.function.Supplier;

/** What a waiting poll receives from its task queue. */
public sealed interface Dispatch {

  /** A backlog or newly added task; the poller records its start in history, then answers. */
  record Queued(TaskRow task) implements Dispatch {}

  /**
   * A task that a history change started for this poll in the same write that created it (see
   * {@link TaskQueueDispatcher#reserveWaitingPoll()}), delivered once that write is durable.
   * {@code response} builds the poll's answer (the history service's may read the store; it says
   * when memory alone can answer, which the thread that wrote the task may then do).
   */
  record Started(Supplier<?> response) implements Dispatch {}

  /** The change that reserved this poll was not written; the poller may wait for another task. */
  record NotStarted() implements Dispatch {}
}
