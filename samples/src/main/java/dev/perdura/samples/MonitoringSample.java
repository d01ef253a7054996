package dev.perdura.samples;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.metrics.MetricMeter;
import dev.perdura.metrics.MicrometerMetricMeter;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import dev.perdura.workflow.ActivityCancellationType;
import dev.perdura.workflow.ActivityHandle;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;

/**
 * {@code sync_monitoring_activity} with {@code metrics_activity}: an activity that opted out of thread
 * cancel exceptions works in units, counts them in a metric, and between units waits for a cancellation
 * with a timeout; when one comes it returns normally.
 */
public final class MonitoringSample implements Sample {
  static PrintStream out = System.out;

  public static class Monitor {
    @ActivityMethod(noThreadCancelException = true)
    public String syncMonitoringActivity(int checkIntervalMillis) throws InterruptedException {
      MetricMeter.Counter units = Activity.metricMeter().counter("work_units", "Units of work done");
      int done = 0;
      while (true) {
        units.add(1);
        done++;
        Activity.heartbeat(done);
        Activity.waitForCancelled(Duration.ofMillis(checkIntervalMillis));
        if (Activity.isCancelled()) {
          out.println("Cancelled during monitoring after " + done + " units ("
              + Activity.cancellationDetails().orElseThrow().reason() + ")");
          return "Cancelled during monitoring";
        }
      }
    }
  }

  public static class Watches {
    @WorkflowMethod
    public String run() {
      ActivityHandle<String> monitor = Workflow.startActivity("syncMonitoringActivity", String.class,
          ActivityOptions.startToClose(Duration.ofMinutes(1)).withHeartbeatTimeout(Duration.ofSeconds(1))
              .withCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED), 200);
      Workflow.sleep(Duration.ofSeconds(2));
      monitor.cancel();
      try {
        return "monitor returned: " + monitor.result();
      } catch (dev.perdura.failure.ActivityFailure e) {
        return "monitor ended with " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  @Override
  public String name() {
    return "monitoring";
  }

  @Override
  public String description() {
    return "no thread cancel exception: the activity waits for cancellation between units and counts them";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream printer) {
    out = printer;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Worker worker = Worker.create(client, taskQueue,
        WorkerOptions.DEFAULTS.withMetricMeter(MicrometerMetricMeter.of(registry)))) {
      worker.registerWorkflows(Watches.class).registerActivities(new Monitor()).start();
      out.println("Workflow result: " + client.executeWorkflow("Watches", String.class,
          StartWorkflowOptions.of("monitoring-" + taskQueue, taskQueue)));
    }
    double units = registry.get("work_units").tag("activity_type", "syncMonitoringActivity").counter().count();
    out.println("work_units recorded: " + (units > 1 ? "more than one" : String.valueOf(units)));
  }
}
