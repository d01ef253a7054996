package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.activity.CancellationShield;
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
 * {@code sync_activity_with_cleanup}: the critical section runs to its end inside a shield although
 * the workflow cancels the activity meanwhile; the cancellation surfaces when the shield closes.
 */
public final class ShieldSample implements Sample {
  static PrintStream out = System.out;

  public static class Critical {
    @ActivityMethod
    public String syncActivityWithCleanup(String data) throws InterruptedException {
      try {
        String result;
        try (CancellationShield shield = Activity.shieldCancellation()) {
          for (int step = 1; step <= 6; step++) {
            Activity.heartbeat(step);
            busy(500);
            out.println("critical step " + step + " done, cancelled=" + Activity.isCancelled());
          }
          out.println("critical resources cleaned up");
          result = "critical result for " + data;
        }
        return result;
      } catch (ActivityCanceledException e) {
        out.println("Cancelled after cleanup");
        throw e;
      }
    }

    private static void busy(long millis) {
      long until = System.nanoTime() + millis * 1_000_000;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
    }
  }

  public static class CancelsMidway {
    @WorkflowMethod
    public String run(String data) {
      ActivityHandle<String> handle = Workflow.startActivity("syncActivityWithCleanup", String.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)).withHeartbeatTimeout(Duration.ofSeconds(1))
              .withCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED), data);
      Workflow.sleep(Duration.ofSeconds(1));
      handle.cancel();
      try {
        return handle.result();
      } catch (ActivityFailure e) {
        return "activity ended with " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  @Override
  public String name() {
    return "shield";
  }

  @Override
  public String description() {
    return "a shield lets a critical section finish; the cancellation comes at its end";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) {
    out = printer;
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(CancelsMidway.class).registerActivities(new Critical()).start();
      out.println("Workflow result: " + client.executeWorkflow("CancelsMidway", String.class,
          StartWorkflowOptions.of("shield-" + taskQueue, taskQueue), "order-42"));
    }
  }
}
