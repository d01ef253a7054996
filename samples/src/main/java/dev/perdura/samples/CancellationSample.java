package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityCancellationType;
import dev.perdura.workflow.ActivityHandle;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;

/**
 * The cancellation guide: a workflow runs {@code run_activity}, starts the heartbeating
 * {@code cancellable_activity}, sleeps three seconds and cancels it through its handle; the activity
 * learns of it at a heartbeat, cleans up and re-throws, so it is reported cancelled.
 */
public final class CancellationSample implements Sample {
  static PrintStream out = System.out;

  public record ComposeArgsInput(int arg1, int arg2) {}

  public static class GuideActivities {
    @ActivityMethod(name = "cancellable_activity")
    public void cancellableActivity(ComposeArgsInput input) throws InterruptedException {
      try {
        while (true) {
          out.println("Heartbeating cancel activity");
          Thread.sleep(500);
          Activity.heartbeat("some details");
        }
      } catch (ActivityCanceledException | InterruptedException e) {
        out.println("Activity cancelled (" + Activity.cancellationDetails().orElseThrow().reason() + ")");
        throw e;
      }
    }

    @ActivityMethod(name = "run_activity")
    public int runActivity(ComposeArgsInput input) {
      out.println("Executing activity");
      return input.arg1() + input.arg2();
    }
  }

  public static class GreetingWorkflow {
    @WorkflowMethod
    public String run(ComposeArgsInput input) {
      int sum = Workflow.executeActivity("run_activity", Integer.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)), input);
      ActivityHandle<Void> handle = Workflow.startActivity("cancellable_activity", Void.class,
          ActivityOptions.startToClose(Duration.ofMinutes(5))
              .withHeartbeatTimeout(Duration.ofSeconds(2))
              .withCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED),
          input);
      Workflow.sleep(Duration.ofSeconds(3));
      handle.cancel();
      try {
        handle.result();
        return "run_activity returned " + sum + "; cancellable_activity completed";
      } catch (ActivityFailure e) {
        return "run_activity returned " + sum + "; cancellable_activity ended with "
            + e.getCause().getClass().getSimpleName();
      }
    }
  }

  @Override
  public String name() {
    return "cancellation";
  }

  @Override
  public String description() {
    return "the cancellation guide: cancel a heartbeating activity through its handle";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) {
    out = printer;
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(GreetingWorkflow.class).registerActivities(new GuideActivities()).start();
      String result = client.executeWorkflow("GreetingWorkflow", String.class,
          StartWorkflowOptions.of("cancellation-" + taskQueue, taskQueue), new ComposeArgsInput(1, 2));
      out.println("Workflow result: " + result);
    }
  }
}
