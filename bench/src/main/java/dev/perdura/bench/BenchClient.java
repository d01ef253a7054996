package dev.perdura.bench;

import java.time.Duration;
import java.util.List;

/**
 * What the benchmark scenarios need from a client SDK: it runs the benchmark's workflows and
 * activities (its worker runs in this process, on a task queue of its own) and reports when things
 * happened. One implementation drives the official Temporal Java SDK; another SDK plugs in by
 * implementing this interface.
 *
 * <p>All times are taken in this process: {@link System#nanoTime()} for durations, and
 * {@link System#currentTimeMillis()} where the workflow and the activity must share a clock.
 * Methods are called from many threads at once.
 */
public interface BenchClient extends AutoCloseable {

  /** What each step of the benchmark's workflows is. */
  enum Step {
    /** An activity: scheduled through the server, run by a worker polling its queue. */
    ACTIVITY,
    /** A local activity: run by the workflow's own worker, its result recorded as a marker. */
    LOCAL_ACTIVITY;

    /** As printed in reports. */
    public String label() {
      return this == ACTIVITY ? "activity" : "local activity";
    }
  }

  /** A short name for reports, such as {@code temporal-sdk}. */
  String name();

  /**
   * Starts a workflow that runs {@code activities} trivial steps (activities or local activities)
   * one after the other and waits for its result.
   *
   * @throws RuntimeException when the workflow fails or no result comes within a few minutes
   */
  void runWorkflow(String workflowId, int activities, Step step);

  /**
   * Like {@link #runWorkflow}, and reports when each activity returned, as seen by the activity
   * itself.
   */
  SequenceTiming runTimedWorkflow(String workflowId, int activities, Step step);

  /**
   * Runs a workflow that starts an activity heartbeating with {@code heartbeatTimeout}, waits
   * {@code delayBeforeCancel} (workflow time), cancels the activity and waits until the activity
   * has stopped.
   */
  CancelTiming runCancellation(String workflowId, Duration heartbeatTimeout, Duration delayBeforeCancel);

  /** Stops the worker and closes the connection. */
  @Override
  void close();

  /**
   * When a timed workflow ran, in {@link System#nanoTime()} of this process.
   *
   * @param startNanos just before the start request was sent
   * @param activityReturnNanos for each activity in order, the moment its code returned
   * @param resultNanos when the client had the workflow's result
   */
  record SequenceTiming(long startNanos, List<Long> activityReturnNanos, long resultNanos) {
    /** Defensive copy. */
    public SequenceTiming {
      activityReturnNanos = List.copyOf(activityReturnNanos);
    }
  }

  /**
   * One cancellation, in {@link System#currentTimeMillis()}.
   *
   * @param issuedMillis when the workflow code asked for the cancellation (recorded in the workflow
   *     through a side effect, so replays see the same value)
   * @param observedMillis when the activity learnt of it (caught the cancellation in its heartbeat)
   */
  record CancelTiming(long issuedMillis, long observedMillis) {
    /** From issue to observation. */
    public Duration latency() {
      return Duration.ofMillis(observedMillis - issuedMillis);
    }
  }
}
