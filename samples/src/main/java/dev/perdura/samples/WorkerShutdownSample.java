package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.common.RetryPolicy;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code graceful_shutdown_activity}: the activity checks for worker shutdown between items, saves its
 * partial results and stops; the server retries it on the next worker, which picks up from the saved
 * progress.
 */
public final class WorkerShutdownSample implements Sample {
  static PrintStream out = System.out;

  public static class Items {
    @ActivityMethod
    public String gracefulShutdownActivity(int count) throws InterruptedException {
      int saved = Activity.info().heartbeatDetail(Integer.class, Activity.payloadConverter()).orElse(0);
      List<Integer> results = new ArrayList<>();
      for (int item = saved + 1; item <= count; item++) {
        results.add(item);
        Activity.heartbeat(item);
        if (Activity.waitForWorkerShutdown(Duration.ofMillis(200))) {
          out.println("Worker shutdown, saved progress up to item " + item);
          throw new IllegalStateException("Worker shutdown, saved " + item + " results");
        }
      }
      return "processed items " + (saved + 1) + ".." + count + " on attempt " + Activity.info().attempt();
    }
  }

  public static class ProcessItems {
    @WorkflowMethod
    public String run(int count) {
      return Workflow.executeActivity("gracefulShutdownActivity", String.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)).withHeartbeatTimeout(Duration.ofSeconds(10))
              .withRetryPolicy(RetryPolicy.maximumAttempts(3).withInitialInterval(Duration.ofMillis(200))), count);
    }
  }

  @Override
  public String name() {
    return "worker-shutdown";
  }

  @Override
  public String description() {
    return "an activity notices its worker shutting down, saves progress, and another worker finishes it";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) throws Exception {
    out = printer;
    Worker first = Worker.create(client, taskQueue, WorkerOptions.DEFAULTS.withShutdownGracePeriod(Duration.ofSeconds(5)));
    first.registerWorkflows(ProcessItems.class).registerActivities(new Items()).start();
    var workflow = client.startWorkflow("ProcessItems", StartWorkflowOptions.of("shutdown-" + taskQueue, taskQueue), 20);
    Thread.sleep(1500);
    out.println("Shutting the first worker down");
    first.close();
    try (Worker second = Worker.create(client, taskQueue)) {
      second.registerWorkflows(ProcessItems.class).registerActivities(new Items()).start();
      out.println("Workflow result: " + workflow.result(String.class));
    }
  }
}
