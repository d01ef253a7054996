package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.testsupport.DriverWorkflow;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** The client and the contextual logger an activity gets from its worker. */
class ActivityContextServicesTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class UsesClient {
    /** The seed's query_external_service: starts another workflow through the activity's client. */
    @ActivityMethod
    public String queryExternalService(String userId, String activityQueue, String workflowQueue) {
      return Activity.client().executeWorkflow("DriverWorkflow", String.class,
          StartWorkflowOptions.of("external-" + userId, workflowQueue),
          DriverWorkflow.Plan.of("lookup", activityQueue, userId));
    }

    @ActivityMethod
    public String lookup(String userId) {
      return "profile of " + userId;
    }

    @ActivityMethod
    public String loggingActivity(String message) {
      Activity.logger().info("Processing message: {}", message);
      ActivityLogger.wrap(LoggerFactory.getLogger("custom")).withInfoOnMessage(false).withFullInfoInMdc(true)
          .info("Custom logging with full activity info");
      return "Logged: " + message;
    }
  }

  @Test
  void anActivityStartsAnotherWorkflowWithItsClient() {
    Scenario scenario = Scenario.on(perdura).activities(new UsesClient());
    String user = UUID.randomUUID().toString();
    String result = scenario.run(scenario.plan("queryExternalService", user, scenario.activityQueue(),
        scenario.driverQueue()));
    assertThat(result).isEqualTo("profile of " + user);
  }

  @Test
  void theLoggerAddsTheActivityContextToMessagesAndTheMdc() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Logger activityLogger = (Logger) LoggerFactory.getLogger("dev.perdura.activity");
    Logger customLogger = (Logger) LoggerFactory.getLogger("custom");
    activityLogger.addAppender(appender);
    customLogger.addAppender(appender);
    try {
      Scenario scenario = Scenario.on(perdura).activities(new UsesClient());
      var execution = scenario.start(scenario.plan("loggingActivity", "hello"));
      assertThat(scenario.result(execution)).isEqualTo("Logged: hello");

      ILoggingEvent plain = appender.list.stream()
          .filter(e -> e.getLoggerName().equals("dev.perdura.activity")).findFirst().orElseThrow();
      assertThat(plain.getFormattedMessage()).startsWith("Processing message: hello (")
          .contains("activity_type=loggingActivity", "workflow_id=" + execution.getWorkflowId());
      assertThat(plain.getMDCPropertyMap()).containsEntry("activity_type", "loggingActivity")
          .containsEntry("workflow_run_id", execution.getRunId())
          .containsEntry("attempt", "1")
          .doesNotContainKey("activity_started_time");

      ILoggingEvent custom = appender.list.stream()
          .filter(e -> e.getLoggerName().equals("custom")).findFirst().orElseThrow();
      assertThat(custom.getFormattedMessage()).isEqualTo("Custom logging with full activity info");
      assertThat(custom.getMDCPropertyMap()).containsKeys("activity_id", "activity_started_time", "activity_is_local");
    } finally {
      activityLogger.detachAppender(appender);
      customLogger.detachAppender(appender);
    }
  }
}
