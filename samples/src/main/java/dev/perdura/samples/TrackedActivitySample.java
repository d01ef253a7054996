package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.common.RetryPolicy;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;

/**
 * {@code tracked_activity} and {@code long_running_task}: the activity reads its info, reports progress
 * with heartbeats, fails once, and its second attempt resumes from the progress the first recorded.
 */
public final class TrackedActivitySample implements Sample {
  static PrintStream out = System.out;

  public static class Tracked {
    @ActivityMethod
    public String trackedActivity(int items) {
      ActivityInfo info = Activity.info();
      int done = info.heartbeatDetail(Integer.class, Activity.payloadConverter()).orElse(0);
      out.println("Processing activity " + info.activityType() + " (attempt " + info.attempt() + ") for workflow "
          + info.workflowType().orElseThrow() + ", resuming after item " + done);
      for (int item = done + 1; item <= items; item++) {
        Activity.heartbeat(item);
        out.println("  item " + item + " of " + items + " done");
        if (info.attempt() == 1 && item == items / 2) {
          throw ApplicationFailure.retryable("lost the connection halfway", "Transient");
        }
      }
      return "Processed " + items + " items in attempt " + info.attempt();
    }
  }

  public static class TracksProgress {
    @WorkflowMethod
    public String run(int items) {
      return Workflow.executeActivity("trackedActivity", String.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)).withHeartbeatTimeout(Duration.ofSeconds(10))
              .withRetryPolicy(RetryPolicy.maximumAttempts(3).withInitialInterval(Duration.ofMillis(200))), items);
    }
  }

  @Override
  public String name() {
    return "tracked-activity";
  }

  @Override
  public String description() {
    return "info and heartbeat progress: a retried attempt resumes where the failed one stopped";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) {
    out = printer;
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(TracksProgress.class).registerActivities(new Tracked()).start();
      out.println("Workflow result: " + client.executeWorkflow("TracksProgress", String.class,
          StartWorkflowOptions.of("tracked-" + taskQueue, taskQueue), 6));
    }
  }
}
