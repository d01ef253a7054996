package dev.perdura.samples;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityLogger;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.worker.Worker;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's contextual logger: {@code activity.logger} adds the running activity's context to each
 * record (on the message and in the MDC), and a custom logger wrapped with {@code
 * LoggerAdapter(..., full info in the MDC, no info on the message)} carries every info field in the
 * MDC only. The sample captures the records its activity logs and prints them.
 */
public final class LoggingSample implements Sample {
  static final String CUSTOM_LOGGER = "dev.perdura.samples.custom";

  public static class Greeter {
    private static final Logger custom = ActivityLogger.wrap(LoggerFactory.getLogger(CUSTOM_LOGGER))
        .withInfoOnMessage(false)
        .withFullInfoInMdc(true);

    @ActivityMethod
    public String greet(String name) {
      Activity.logger().info("Greeting {}", name);
      custom.info("custom logging with full activity info in the MDC");
      return "Hello, " + name + "!";
    }
  }

  public static class LoggingWorkflow {
    @WorkflowMethod
    public String run(String name) {
      return Workflow.executeActivity("greet", String.class, ActivityOptions.startToClose(Duration.ofSeconds(30)),
          name);
    }
  }

  @Override
  public String name() {
    return "logging";
  }

  @Override
  public String description() {
    return "the activity's contextual logger: context on the message and in the MDC, or everything in the MDC";
  }

  @Override
  public void run(PerduraClient client, String taskQueue, PrintStream out) {
    ListAppender<ILoggingEvent> records = new ListAppender<>();
    records.start();
    List<ch.qos.logback.classic.Logger> captured = List.of(
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.perdura.activity"),
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(CUSTOM_LOGGER));
    List<ch.qos.logback.classic.Level> levels = captured.stream().map(ch.qos.logback.classic.Logger::getLevel).toList();
    captured.forEach(logger -> {
      logger.addAppender(records);
      logger.setLevel(ch.qos.logback.classic.Level.INFO);
    });
    try (Worker worker = Worker.create(client, taskQueue)) {
      worker.registerWorkflows(LoggingWorkflow.class).registerActivities(new Greeter()).start();
      out.println("Workflow result: " + client.executeWorkflow("LoggingWorkflow", String.class,
          StartWorkflowOptions.of("logging-" + taskQueue, taskQueue), "Perdura"));
    } finally {
      for (int i = 0; i < captured.size(); i++) {
        captured.get(i).detachAppender(records);
        captured.get(i).setLevel(levels.get(i));
      }
    }
    for (ILoggingEvent record : records.list) {
      if (record.getLoggerName().equals("dev.perdura.activity") && !record.getFormattedMessage().startsWith("Greeting")) {
        continue; // the SDK's own records about the activity, not the sample's
      }
      out.println("[" + record.getLoggerName() + "] " + record.getFormattedMessage());
      Map<String, String> mdc = new TreeMap<>(record.getMDCPropertyMap());
      out.println("  MDC keys: " + mdc.keySet());
      out.println("  MDC activity_type=" + mdc.get("activity_type") + ", attempt=" + mdc.get("attempt"));
    }
  }
}
