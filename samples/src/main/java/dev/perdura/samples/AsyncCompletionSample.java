package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Asynchronous completion: the activity hands its task token to an "external system" and returns
 * without a result; the external system completes it later through a client.
 */
public final class AsyncCompletionSample implements Sample {
  /** Stands in for the external system's inbox. */
  static final BlockingQueue<byte[]> externalSystem = new ArrayBlockingQueue<>(16);
  static PrintStream out = System.out;

  public static class External {
    @ActivityMethod
    public String asyncCompletionActivity(String taskId) {
      out.println("Starting external task " + taskId);
      externalSystem.add(Activity.info().taskToken());
      throw Activity.completeAsync();
    }
  }

  public static class WaitsForExternal {
    @WorkflowMethod
    public String run(String taskId) {
      return Workflow.executeActivity("asyncCompletionActivity", String.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)), taskId);
    }
  }

  @Override
  public String name() {
    return "async-completion";
  }

  @Override
  public String description() {
    return "an activity completed by an external system with its task token";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) throws Exception {
    out = printer;
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(WaitsForExternal.class).registerActivities(new External()).start();
      var workflow = client.startWorkflow("WaitsForExternal", StartWorkflowOptions.of("async-" + taskQueue, taskQueue),
          "task-7");
      byte[] token = externalSystem.poll(60, TimeUnit.SECONDS);
      if (token == null) {
        throw new IllegalStateException("the activity never handed over its task token");
      }
      out.println("External system completes the activity");
      client.activityHandle(token).complete("External completion result");
      out.println("Workflow result: " + workflow.result(String.class));
    }
  }
}
