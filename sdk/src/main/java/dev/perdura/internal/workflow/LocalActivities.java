package dev.perdura.internal.workflow;

import io.temporal.api.common.v1.Payloads;
import io.temporal.api.failure.v1.Failure;
import java.util.concurrent.CompletableFuture;

/** Runs a workflow's local activities in the worker; implemented by the worker's activity runtime. */
public interface LocalActivities {
  /** The outcome of all attempts: a result, or the last failure. */
  record Outcome(Payloads result, Failure failure) {}

  /** A local activity in flight. */
  interface Running {
    CompletableFuture<Outcome> outcome();

    /** Cancels it (reason cancel requested); the outcome then completes with a cancellation failure. */
    void cancel();
  }

  Running start(String workflowId, String runId, String workflowType, String activityId, String activityType,
      Payloads input, dev.perdura.workflow.LocalActivityOptions options);
}
