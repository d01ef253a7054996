package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.client.ActivityNotFoundException;
import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Activities completed from outside the worker, by task token or by ids, from another client. */
class ActivityAsyncCompletionTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  static final Map<String, ActivityInfo> started = new ConcurrentHashMap<>();

  public static class External {
    /** The seed's async_completion_activity: hands its token to an external system and returns. */
    @ActivityMethod
    public String asyncCompletionActivity(String taskId) {
      started.put(taskId, Activity.info());
      throw Activity.completeAsync();
    }
  }

  private static ActivityInfo awaitStarted(String taskId) {
    await().atMost(Duration.ofSeconds(20)).until(() -> started.containsKey(taskId));
    return started.get(taskId);
  }

  @Test
  void anotherClientCompletesTheActivityByTaskToken() {
    Scenario scenario = Scenario.on(perdura).activities(new External());
    String taskId = UUID.randomUUID().toString();
    var execution = scenario.start(scenario.plan("asyncCompletionActivity", taskId).withHeartbeat(10_000));
    ActivityInfo info = awaitStarted(taskId);
    try (PerduraClient external = PerduraClient.connect(ClientOptions.target(perdura.target()))) {
      var handle = external.activityHandle(info.taskToken());
      assertThat(handle.heartbeat("halfway")).isFalse();
      handle.complete("External completion result");
      assertThat(scenario.result(execution)).isEqualTo("External completion result");
      assertThatThrownBy(() -> handle.complete("twice")).isInstanceOf(ActivityNotFoundException.class);
    }
  }

  @Test
  void theActivityCanBeFailedOrCancelledByIds() {
    Scenario scenario = Scenario.on(perdura).activities(new External());
    String failing = UUID.randomUUID().toString();
    var first = scenario.start(scenario.plan("asyncCompletionActivity", failing));
    ActivityInfo info = awaitStarted(failing);
    perdura.client().activityHandle(info.workflowId().orElseThrow(), info.workflowRunId().orElseThrow(),
        info.activityId()).fail(ApplicationFailure.nonRetryable("external system gave up", "ExternalFailure"));
    assertThat(scenario.result(first)).isEqualTo("failed: ExternalFailure: external system gave up");

    String cancelled = UUID.randomUUID().toString();
    var second = scenario.start(scenario.plan("asyncCompletionActivity", cancelled).withHeartbeat(10_000)
        .cancelAfter(1_000, "WAIT_CANCELLATION_COMPLETED"));
    ActivityInfo other = awaitStarted(cancelled);
    var handle = perdura.client().activityHandle(other.workflowId().orElseThrow(), "", other.activityId());
    await().atMost(Duration.ofSeconds(20)).until(() -> handle.heartbeat("checking"));
    handle.reportCancellation("acknowledged");
    assertThat(scenario.result(second)).isEqualTo("cancelled");
  }
}
