package dev.perdura.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.ActivityStub;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A workflow written with the official Temporal SDK that runs one activity, by type name, on the
 * Perdura SDK's worker: each test describes its scenario as a {@link Plan}. The result says how the
 * activity ended: its result (text as is, anything else as JSON), {@code "cancelled"}, or
 * {@code "failed: <type>: <message>"}.
 */
@WorkflowInterface
public interface DriverWorkflow {
  @WorkflowMethod
  String run(Plan plan);

  /**
   * @param cancelAfterMillis cancel the activity this long after scheduling it; 0 never
   * @param maximumAttempts 0 = unlimited
   */
  record Plan(
      String activityType,
      String activityQueue,
      Object[] args,
      long startToCloseMillis,
      long heartbeatMillis,
      int maximumAttempts,
      long cancelAfterMillis,
      String cancellationType) {

    public static Plan of(String activityType, String activityQueue, Object... args) {
      return new Plan(activityType, activityQueue, args, 30_000, 0, 1, 0, null);
    }

    public Plan withStartToClose(long millis) {
      return new Plan(activityType, activityQueue, args, millis, heartbeatMillis, maximumAttempts, cancelAfterMillis,
          cancellationType);
    }

    public Plan withHeartbeat(long millis) {
      return new Plan(activityType, activityQueue, args, startToCloseMillis, millis, maximumAttempts, cancelAfterMillis,
          cancellationType);
    }

    public Plan withAttempts(int attempts) {
      return new Plan(activityType, activityQueue, args, startToCloseMillis, heartbeatMillis, attempts,
          cancelAfterMillis, cancellationType);
    }

    public Plan cancelAfter(long millis, String type) {
      return new Plan(activityType, activityQueue, args, startToCloseMillis, heartbeatMillis, maximumAttempts, millis,
          type);
    }
  }

  /** The implementation; register it on an official-SDK worker. */
  class Impl implements DriverWorkflow {
    @Override
    public String run(Plan plan) {
      ActivityOptions.Builder options = ActivityOptions.newBuilder()
          .setTaskQueue(plan.activityQueue())
          .setStartToCloseTimeout(Duration.ofMillis(plan.startToCloseMillis()))
          .setRetryOptions(RetryOptions.newBuilder()
              .setInitialInterval(Duration.ofMillis(100))
              .setMaximumAttempts(plan.maximumAttempts())
              .build());
      if (plan.heartbeatMillis() > 0) {
        options.setHeartbeatTimeout(Duration.ofMillis(plan.heartbeatMillis()));
      }
      if (plan.cancellationType() != null) {
        options.setCancellationType(ActivityCancellationType.valueOf(plan.cancellationType()));
      }
      ActivityStub activity = Workflow.newUntypedActivityStub(options.build());
      AtomicReference<Promise<JsonNode>> result = new AtomicReference<>();
      CancellationScope scope = Workflow.newCancellationScope(
          () -> result.set(activity.executeAsync(plan.activityType(), JsonNode.class, plan.args())));
      scope.run();
      if (plan.cancelAfterMillis() > 0) {
        Workflow.sleep(Duration.ofMillis(plan.cancelAfterMillis()));
        scope.cancel();
      }
      try {
        JsonNode value = result.get().get();
        return value == null || value.isNull() ? "null" : value.isTextual() ? value.asText() : value.toString();
      } catch (ActivityFailure e) {
        if (e.getCause() instanceof io.temporal.failure.CanceledFailure) {
          return "cancelled";
        }
        if (e.getCause() instanceof ApplicationFailure application) {
          return "failed: " + application.getType() + ": " + application.getOriginalMessage();
        }
        return "failed: " + e.getCause().getClass().getSimpleName();
      }
    }
  }
}
