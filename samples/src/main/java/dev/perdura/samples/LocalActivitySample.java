package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityHandle;
import dev.perdura.workflow.LocalActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;

/**
 * The guide's point on local activities: they run in the worker, so they can be cancelled without
 * sending heartbeats.
 */
public final class LocalActivitySample implements Sample {
  static PrintStream out = System.out;

  public static class Local {
    @ActivityMethod
    public String neverHeartbeats(String input) throws InterruptedException {
      out.println("local activity started (local=" + Activity.info().local() + "), no heartbeats");
      try {
        Thread.sleep(Duration.ofMinutes(5));
        return "finished";
      } catch (InterruptedException e) {
        out.println("local activity cancelled: " + Activity.cancellationDetails().orElseThrow().reason());
        throw e;
      }
    }

    @ActivityMethod
    public String quickCheck(String input) {
      out.println("quick check done");
      return "checked " + input;
    }
  }

  public static class CancelsLocal {
    @WorkflowMethod
    public String run(String input) {
      LocalActivityOptions options = LocalActivityOptions.startToClose(Duration.ofMinutes(10));
      ActivityHandle<String> slow = Workflow.startLocalActivity("neverHeartbeats", String.class, options, input);
      String checked = Workflow.executeLocalActivity("quickCheck", String.class, options, input);
      slow.cancel();
      try {
        return slow.result();
      } catch (ActivityFailure e) {
        return checked + "; the slow local activity ended with " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  @Override
  public String name() {
    return "local-activity";
  }

  @Override
  public String description() {
    return "a local activity that never heartbeats is still cancelled";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) {
    out = printer;
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(CancelsLocal.class).registerActivities(new Local()).start();
      out.println("Workflow result: " + client.executeWorkflow("CancelsLocal", String.class,
          StartWorkflowOptions.of("local-" + taskQueue, taskQueue), "order-9"));
    }
  }
}
