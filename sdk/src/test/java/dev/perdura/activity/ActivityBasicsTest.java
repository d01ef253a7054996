package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.common.RawValue;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import dev.perdura.worker.Worker;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Defining activities, and what a running activity knows about itself. */
class ActivityBasicsTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Processing {
    @ActivityMethod
    public String processData(String data) {
      return "Processed: " + data;
    }

    @ActivityMethod(name = "custom_activity_name")
    public String myActivity(String input) {
      return "Result: " + input;
    }

    @ActivityMethod
    public CompletionStage<String> processLater(String data) {
      return CompletableFuture.supplyAsync(() -> "Later: " + data);
    }

    @ActivityMethod
    public int add(int a, int b) {
      return a + b;
    }

    public String notAnActivity() {
      return "never registered";
    }
  }

  @Test
  void methodsRunUnderTheirOwnOrTheirCustomName() {
    Scenario scenario = Scenario.on(perdura).activities(new Processing());
    assertThat(scenario.run(scenario.plan("processData", "x"))).isEqualTo("Processed: x");
    assertThat(scenario.run(scenario.plan("custom_activity_name", "y"))).isEqualTo("Result: y");
    assertThat(scenario.run(scenario.plan("processLater", "z"))).isEqualTo("Later: z");
    assertThat(scenario.run(scenario.plan("myActivity", "y"))).startsWith("failed: NotFoundError")
        .contains("custom_activity_name", "processData");
  }

  /** Annotated on the interface, implemented by a class that does not repeat the annotation. */
  public interface Greetings {
    @ActivityMethod(name = "greet")
    String hello(String name);
  }

  public static class FriendlyGreetings implements Greetings {
    @Override
    public String hello(String name) {
      return "Hello, " + name;
    }
  }

  @Test
  void annotationsOnAnInterfaceApplyToItsImplementation() {
    Scenario scenario = Scenario.on(perdura).activities(new FriendlyGreetings());
    assertThat(scenario.run(scenario.plan("greet", "Ada"))).isEqualTo("Hello, Ada");
  }

  public static class Duplicate {
    @ActivityMethod(name = "processData")
    public String again(String data) {
      return data;
    }
  }

  public static class NamedDynamic {
    @ActivityMethod(name = "x", dynamic = true)
    public Object any(List<RawValue> args) {
      return null;
    }
  }

  public static class BadDynamic {
    @ActivityMethod(dynamic = true)
    public Object any(String arg) {
      return null;
    }
  }

  @Test
  void invalidDefinitionsAreRejectedAtRegistration() {
    Worker worker = Worker.create(perdura.client(), PerduraTestServer.uniqueQueue("invalid"));
    worker.registerActivities(new Processing());
    assertThatThrownBy(() -> worker.registerActivities(new Duplicate()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'processData' is registered twice");
    assertThatThrownBy(() -> worker.registerActivities(new NamedDynamic()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dynamic and has a name");
    assertThatThrownBy(() -> worker.registerActivities(new BadDynamic()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("List<RawValue>");
    assertThatThrownBy(() -> worker.registerActivities(new Object()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no method annotated @ActivityMethod");
  }

  public static class Dynamic {
    @ActivityMethod(dynamic = true)
    public String anything(List<RawValue> args) {
      var converter = Activity.payloadConverter();
      List<Object> decoded = args.stream().map(arg -> converter.fromPayload(arg.payload())).toList();
      if (decoded.size() == 1 && decoded.getFirst() instanceof String s) {
        return "String processing: " + s + " (" + Activity.info().activityType() + ")";
      }
      if (decoded.size() == 2 && decoded.stream().allMatch(Integer.class::isInstance)) {
        return "Math result: " + ((Integer) decoded.get(0) + (Integer) decoded.get(1));
      }
      return "Generic processing: " + decoded;
    }
  }

  @Test
  void aDynamicActivityRunsEveryUnregisteredTypeWithRawArguments() {
    Scenario scenario = Scenario.on(perdura).activities(new Processing(), new Dynamic());
    assertThat(scenario.run(scenario.plan("add", 2, 3))).isEqualTo("5");
    assertThat(scenario.run(scenario.plan("whatever", "text"))).isEqualTo("String processing: text (whatever)");
    assertThat(scenario.run(scenario.plan("sum", 2, 40))).isEqualTo("Math result: 42");
    assertThat(scenario.run(scenario.plan("mixed", "a", 1, true))).isEqualTo("Generic processing: [a, 1, true]");
  }

  static final Map<String, ActivityInfo> seen = new ConcurrentHashMap<>();

  public static class Tracked {
    @ActivityMethod
    public String trackedActivity(String key) {
      ActivityInfo info = Activity.info();
      seen.put(key, info);
      boolean fromChildThread = CompletableFuture.supplyAsync(Activity::inActivity,
          command -> Thread.ofVirtual().start(command)).join();
      if (info.attempt() < 2) {
        Activity.heartbeat("progress-" + info.attempt());
        throw ApplicationFailure.retryable("try again", "Flaky");
      }
      String previous = info.heartbeatDetail(String.class, Activity.payloadConverter()).orElse("none");
      return "Processed " + key + " in attempt " + info.attempt() + " after " + previous
          + (fromChildThread ? " (child thread in activity)" : "");
    }
  }

  @Test
  void infoDescribesTheAttemptAndCarriesHeartbeatDetailsToTheNext() {
    Scenario scenario = Scenario.on(perdura).activities(new Tracked());
    var execution = scenario.start(scenario.plan("trackedActivity", "k1").withAttempts(3).withHeartbeat(10_000));
    assertThat(scenario.result(execution))
        .isEqualTo("Processed k1 in attempt 2 after progress-1 (child thread in activity)");
    ActivityInfo info = seen.get("k1");
    assertThat(info.activityType()).isEqualTo("trackedActivity");
    assertThat(info.attempt()).isEqualTo(2);
    assertThat(info.workflowId()).contains(execution.getWorkflowId());
    assertThat(info.workflowRunId()).contains(execution.getRunId());
    assertThat(info.workflowType()).contains("DriverWorkflow");
    assertThat(info.workflowNamespace()).isEqualTo("default");
    assertThat(info.taskQueue()).isEqualTo(scenario.activityQueue());
    assertThat(info.startToCloseTimeout()).contains(java.time.Duration.ofSeconds(30));
    assertThat(info.heartbeatTimeout()).contains(java.time.Duration.ofSeconds(10));
    assertThat(info.local()).isFalse();
    assertThat(info.activityRunId()).isEmpty();
    assertThat(info.priority()).isEqualTo(dev.perdura.common.Priority.DEFAULT);
    // Unset by the workflow: the server bounds it by the workflow run timeout (2 minutes here).
    assertThat(info.scheduleToCloseTimeout()).contains(java.time.Duration.ofMinutes(2));
    assertThat(info.taskToken()).isNotEmpty();
    assertThat(info.startedTime()).isAfterOrEqualTo(info.currentAttemptScheduledTime());
    assertThat(info.currentAttemptScheduledTime()).isAfterOrEqualTo(info.scheduledTime());
    assertThat(Activity.inActivity()).isFalse();
    assertThatThrownBy(Activity::info).isInstanceOf(IllegalStateException.class).hasMessageContaining("not in an activity");
  }
}
