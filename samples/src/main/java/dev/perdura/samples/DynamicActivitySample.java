package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.common.RawValue;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/** A dynamic activity serves activity types nobody registered, decoding its raw arguments itself. */
public final class DynamicActivitySample implements Sample {
  public static class Dynamic {
    @ActivityMethod(dynamic = true)
    public String dynamicPayloadActivity(List<RawValue> args) {
      var converter = Activity.payloadConverter();
      List<Object> decoded = args.stream().map(arg -> converter.fromPayload(arg.payload())).toList();
      String type = Activity.info().activityType();
      if (decoded.size() == 1 && decoded.getFirst() instanceof String s) {
        return type + " -> String processing: " + s;
      }
      if (decoded.size() == 2 && decoded.stream().allMatch(Integer.class::isInstance)) {
        return type + " -> Math result: " + ((Integer) decoded.get(0) + (Integer) decoded.get(1));
      }
      return type + " -> Generic processing: " + decoded;
    }
  }

  public static class CallsAnything {
    @WorkflowMethod
    public List<String> run() {
      ActivityOptions options = ActivityOptions.startToClose(Duration.ofSeconds(30));
      return List.of(
          Workflow.executeActivity("shout", String.class, options, "hello"),
          Workflow.executeActivity("add", String.class, options, 40, 2),
          Workflow.executeActivity("mixed", String.class, options, "a", 1, true));
    }
  }

  @Override
  public String name() {
    return "dynamic-activity";
  }

  @Override
  public String description() {
    return "one dynamic activity handles any activity type, with RawValue arguments";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream out) {
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(CallsAnything.class).registerActivities(new Dynamic()).start();
      List<?> results = client.executeWorkflow("CallsAnything", List.class,
          StartWorkflowOptions.of("dynamic-" + taskQueue, taskQueue));
      results.forEach(out::println);
    }
  }
}
