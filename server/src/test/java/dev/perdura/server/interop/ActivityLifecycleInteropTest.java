package dev.perdura.server.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.enums.v1.RetryState;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.PauseActivityRequest;
import io.temporal.api.workflowservice.v1.ResetActivityRequest;
import io.temporal.api.workflowservice.v1.UpdateActivityOptionsRequest;
import io.temporal.api.workflowservice.v1.UnpauseActivityRequest;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.ActivityPausedException;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.ActivityStub;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The activity lifecycle on a Perdura server, seen through the official Temporal Java SDK:
 * every timeout type, retries and their policy, heartbeat details across attempts, cancellation
 * of started and not-started activities, asynchronous completion, pause, and local activities.
 *
 * <p>One generic workflow runs one activity described by its arguments, so each test states its
 * scenario in the options it passes.
 */
class ActivityLifecycleInteropTest {
  @RegisterExtension static final PerduraServerExtension perdura = new PerduraServerExtension();

  /** What each test's activity did, by test key. */
  static final Map<String, List<String>> journal = new ConcurrentHashMap<>();
  static final Map<String, AtomicReference<byte[]>> tokens = new ConcurrentHashMap<>();
  /** System.nanoTime() at the start of each attempt, for scenarios that time retries. */
  static final Map<String, List<Long>> attemptStarts = new ConcurrentHashMap<>();

  static void record(String key, String entry) {
    journal.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(entry);
  }

  @ActivityInterface
  public interface Scenarios {
    /** Behaviour by name: see {@link ScenariosImpl}. */
    String run(String key, String behaviour);
  }

  public static class ScenariosImpl implements Scenarios {
    @Override
    public String run(String key, String behaviour) {
      ActivityExecutionContext context = Activity.getExecutionContext();
      int attempt = context.getInfo().getAttempt();
      record(key, behaviour + "@" + attempt);
      switch (behaviour) {
        case "ok" -> {
          return "done";
        }
        case "sleep-first" -> {
          if (attempt == 1) {
            sleep(5000);
          }
          return "attempt " + attempt;
        }
        case "never-heartbeat" -> {
          sleep(5000);
          return "late";
        }
        case "always-fail" -> throw ApplicationFailure.newFailure("boom " + attempt, "Flaky");
        case "fatal" -> throw ApplicationFailure.newFailure("fatal", "Fatal");
        case "progress" -> {
          String previous = context.getHeartbeatDetails(String.class).orElse("none");
          record(key, "saw " + previous);
          if (attempt == 1) {
            context.heartbeat("progress-5");
            throw ApplicationFailure.newFailure("crash after progress", "Flaky");
          }
          return previous;
        }
        case "heartbeat-until-cancelled" -> {
          try {
            for (int i = 0; i < 600; i++) {
              context.heartbeat(i);
              sleep(100);
            }
            return "not cancelled";
          } catch (ActivityCanceledException e) {
            record(key, "cancelled");
            throw e;
          }
        }
        case "heartbeat-until-paused" -> {
          try {
            for (int i = 0; i < 600; i++) {
              context.heartbeat(i);
              sleep(100);
            }
            return "not paused";
          } catch (ActivityPausedException e) {
            record(key, "paused");
            throw e;
          }
        }
        case "non-retryable" -> throw ApplicationFailure.newNonRetryableFailure("no point retrying", "Permanent");
        case "retry-later" -> {
          attemptStarts.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(System.nanoTime());
          if (attempt == 1) {
            throw ApplicationFailure.newBuilder().setMessage("come back later").setType("Busy")
                .setNextRetryDelay(Duration.ofSeconds(2)).build();
          }
          return "attempt " + attempt;
        }
        case "heartbeat-until-interrupted" -> {
          try {
            for (int i = 0; i < 600; i++) {
              context.heartbeat(i);
              sleep(100);
            }
            return "not interrupted";
          } catch (ActivityCompletionException e) {
            record(key, e.getClass().getSimpleName());
            throw e;
          }
        }
        case "async" -> {
          tokens.computeIfAbsent(key, k -> new AtomicReference<>()).set(context.getTaskToken());
          context.doNotCompleteOnReturn();
          return null;
        }
        default -> throw new IllegalArgumentException(behaviour);
      }
    }

    private static void sleep(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** How the workflow runs its one activity. */
  public record Plan(
      String key,
      String behaviour,
      String activityQueue,
      long startToCloseMillis,
      long scheduleToStartMillis,
      long scheduleToCloseMillis,
      long heartbeatMillis,
      int maximumAttempts,
      String doNotRetry,
      String cancellation,
      long cancelAfterMillis,
      boolean local) {}

  @WorkflowInterface
  public interface PlanWorkflow {
    @WorkflowMethod
    String run(Plan plan);
  }

  public static class PlanWorkflowImpl implements PlanWorkflow {
    @Override
    public String run(Plan plan) {
      if (plan.local()) {
        Scenarios local = Workflow.newLocalActivityStub(Scenarios.class, LocalActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMillis(plan.startToCloseMillis()))
            .build());
        return local.run(plan.key(), plan.behaviour());
      }
      ActivityOptions.Builder options = ActivityOptions.newBuilder()
          .setRetryOptions(RetryOptions.newBuilder()
              .setInitialInterval(Duration.ofMillis(100))
              .setMaximumAttempts(plan.maximumAttempts())
              .setDoNotRetry(plan.doNotRetry() == null ? new String[0] : new String[] {plan.doNotRetry()})
              .build());
      if (plan.activityQueue() != null) {
        options.setTaskQueue(plan.activityQueue());
      }
      if (plan.startToCloseMillis() > 0) {
        options.setStartToCloseTimeout(Duration.ofMillis(plan.startToCloseMillis()));
      }
      if (plan.scheduleToStartMillis() > 0) {
        options.setScheduleToStartTimeout(Duration.ofMillis(plan.scheduleToStartMillis()));
      }
      if (plan.scheduleToCloseMillis() > 0) {
        options.setScheduleToCloseTimeout(Duration.ofMillis(plan.scheduleToCloseMillis()));
      }
      if (plan.heartbeatMillis() > 0) {
        options.setHeartbeatTimeout(Duration.ofMillis(plan.heartbeatMillis()));
      }
      if (plan.cancellation() != null) {
        options.setCancellationType(ActivityCancellationType.valueOf(plan.cancellation()));
      }
      ActivityStub activity = Workflow.newUntypedActivityStub(options.build());
      if (plan.cancelAfterMillis() == 0) {
        return activity.execute("Run", String.class, plan.key(), plan.behaviour());
      }
      AtomicReference<Promise<String>> result = new AtomicReference<>();
      CancellationScope scope = Workflow.newCancellationScope(
          () -> result.set(activity.executeAsync("Run", String.class, plan.key(), plan.behaviour())));
      scope.run();
      Workflow.sleep(Duration.ofMillis(plan.cancelAfterMillis()));
      scope.cancel();
      try {
        return result.get().get();
      } catch (ActivityFailure e) {
        if (ActivityCancellationType.TRY_CANCEL.name().equals(plan.cancellation())) {
          // TRY_CANCEL resolves before the activity knows; stay open so its next heartbeat can learn it.
          Workflow.sleep(Duration.ofSeconds(5));
        }
        return "activity ended: " + e.getCause().getClass().getSimpleName();
      }
    }
  }

  private static Plan plan(String behaviour) {
    return new Plan(UUID.randomUUID().toString(), behaviour, null, 10_000, 0, 0, 0, 0, null, null, 0, false);
  }

  private String queue;

  private String worker() {
    queue = PerduraServerExtension.uniqueQueue("activities");
    WorkerFactory factory = perdura.newWorkerFactory();
    Worker worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(PlanWorkflowImpl.class);
    worker.registerActivitiesImplementations(new ScenariosImpl());
    factory.start();
    return queue;
  }

  private PlanWorkflow workflow(String workflowId) {
    return perdura.client().newWorkflowStub(PlanWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue)
        .setWorkflowId(workflowId)
        .setWorkflowExecutionTimeout(Duration.ofMinutes(2))
        .build());
  }

  private PlanWorkflow workflow() {
    return workflow("plan-" + UUID.randomUUID());
  }

  private static TimeoutFailure timeoutOf(Throwable workflowFailure) {
    assertThat(workflowFailure).isInstanceOf(WorkflowFailedException.class);
    Throwable activity = workflowFailure.getCause();
    assertThat(activity).isInstanceOf(ActivityFailure.class);
    assertThat(activity.getCause()).isInstanceOf(TimeoutFailure.class);
    return (TimeoutFailure) activity.getCause();
  }

  @Test
  void startToCloseTimeoutIsRetriedAndTheNextAttemptSucceeds() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "sleep-first", null, 1000, 0, 0, 0, 0, null, null, 0, false);
    assertThat(workflow().run(plan)).isEqualTo("attempt 2");
  }

  @Test
  void heartbeatTimeoutEndsAnActivityThatStopsHeartbeating() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "never-heartbeat", null, 10_000, 0, 0, 1000, 2, null, null, 0, false);
    Throwable failure = catchFailure(() -> workflow().run(plan));
    assertThat(timeoutOf(failure).getTimeoutType()).isEqualTo(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    assertThat(journal.get(plan.key())).as("the first heartbeat timeout was retried")
        .containsExactly("never-heartbeat@1", "never-heartbeat@2");
  }

  @Test
  void scheduleToStartTimeoutEndsAnActivityNobodyPicksUp() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "ok", "nobody-polls-" + UUID.randomUUID(),
        10_000, 1000, 0, 0, 0, null, null, 0, false);
    Throwable failure = catchFailure(() -> workflow().run(plan));
    assertThat(timeoutOf(failure).getTimeoutType()).isEqualTo(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
  }

  @Test
  void scheduleToCloseTimeoutEndsARunningAttempt() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "never-heartbeat", null, 10_000, 0, 2000, 0, 0, null, null, 0, false);
    Throwable failure = catchFailure(() -> workflow().run(plan));
    assertThat(timeoutOf(failure).getTimeoutType()).isEqualTo(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
  }

  @Test
  void scheduleToCloseTimeoutStopsRetriesThatCouldNotFinishInTime() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "always-fail", null, 1000, 0, 2000, 0, 0, null, null, 0, false);
    Throwable failure = catchFailure(() -> workflow().run(plan));
    // The last attempt's own failure ends it, marked as stopped by the timeout (not a TimeoutFailure).
    assertThat(failure.getCause()).isInstanceOfSatisfying(ActivityFailure.class,
        f -> assertThat(f.getRetryState()).isEqualTo(RetryState.RETRY_STATE_TIMEOUT));
    assertThat(failure.getCause().getCause()).isInstanceOf(ApplicationFailure.class);
    assertThat(journal.get(plan.key()).size()).isGreaterThan(1);
  }

  @Test
  void maximumAttemptsAndNonRetryableTypesStopRetries() {
    worker();
    Plan limited = new Plan(UUID.randomUUID().toString(), "always-fail", null, 10_000, 0, 0, 0, 3, null, null, 0, false);
    assertThat(originalMessage(catchFailure(() -> workflow().run(limited)))).isEqualTo("boom 3");
    assertThat(journal.get(limited.key())).hasSize(3);

    Plan fatal = new Plan(UUID.randomUUID().toString(), "fatal", null, 10_000, 0, 0, 0, 0, "Fatal", null, 0, false);
    assertThat(originalMessage(catchFailure(() -> workflow().run(fatal)))).isEqualTo("fatal");
    assertThat(journal.get(fatal.key())).hasSize(1);
  }

  @Test
  void aNonRetryableFailureIsNotRetriedAndANextRetryDelayIsHonoured() {
    worker();
    Plan permanent = new Plan(UUID.randomUUID().toString(), "non-retryable", null, 10_000, 0, 0, 0, 0, null, null, 0, false);
    assertThat(originalMessage(catchFailure(() -> workflow().run(permanent)))).isEqualTo("no point retrying");
    assertThat(journal.get(permanent.key())).hasSize(1);

    Plan later = new Plan(UUID.randomUUID().toString(), "retry-later", null, 10_000, 0, 0, 0, 0, null, null, 0, false);
    assertThat(workflow().run(later)).isEqualTo("attempt 2");
    List<Long> starts = attemptStarts.get(later.key());
    // The policy's interval is 100 ms; the failure asked for 2 s.
    assertThat(Duration.ofNanos(starts.get(1) - starts.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
  }

  @Test
  void describeShowsPendingActivitiesWithTheirProgressAndFailures() {
    worker();
    var stub = perdura.service().blockingStub();
    Plan beating = new Plan(UUID.randomUUID().toString(), "heartbeat-until-interrupted", null, 60_000, 0, 0, 2000, 0,
        null, null, 0, false);
    PlanWorkflow first = workflow();
    WorkflowExecution running = WorkflowClient.start(first::run, beating);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      var pending = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
          .setNamespace("default").setExecution(running).build()).getPendingActivitiesList();
      return pending.size() == 1 && pending.get(0).hasHeartbeatDetails();
    });
    var started = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(running).build()).getPendingActivities(0);
    assertThat(started.getState()).isEqualTo(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
    assertThat(started.getAttempt()).isEqualTo(1);
    assertThat(started.hasLastHeartbeatTime()).isTrue();
    assertThat(started.getActivityType().getName()).isEqualTo("Run");
    assertThat(started.getPaused()).isFalse();
    WorkflowStub.fromTyped(first).terminate("seen enough");

    Plan failing = new Plan(UUID.randomUUID().toString(), "retry-later", null, 10_000, 0, 0, 0, 0, null, null, 0, false);
    PlanWorkflow second = workflow();
    WorkflowExecution retrying = WorkflowClient.start(second::run, failing);
    await().atMost(Duration.ofSeconds(20)).until(() -> stub.describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(retrying).build())
        .getPendingActivitiesList().stream().anyMatch(a -> a.getAttempt() == 2));
    var waiting = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(retrying).build()).getPendingActivities(0);
    // Seen within the 2 s the failure asked to wait before the next attempt.
    assertThat(waiting.getState()).isEqualTo(PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED);
    assertThat(waiting.getLastFailure().getMessage()).isEqualTo("come back later");
    assertThat(waiting.hasNextAttemptScheduleTime()).isTrue();
    assertThat(WorkflowStub.fromTyped(second).getResult(String.class)).isEqualTo("attempt 2");
  }

  @Test
  void heartbeatDetailsReachTheNextAttempt() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "progress", null, 10_000, 0, 0, 0, 0, null, null, 0, false);
    assertThat(workflow().run(plan)).isEqualTo("progress-5");
    assertThat(journal.get(plan.key())).containsExactly("progress@1", "saw none", "progress@2", "saw progress-5");
  }

  @Test
  void waitingCancellationDeliversTheCancelThroughHeartbeats() {
    worker();
    String workflowId = "cancel-" + UUID.randomUUID();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-cancelled", null, 60_000, 0, 0, 2000, 0,
        null, "WAIT_CANCELLATION_COMPLETED", 1500, false);
    assertThat(workflow(workflowId).run(plan)).isEqualTo("activity ended: CanceledFailure");
    assertThat(journal.get(plan.key())).contains("cancelled");
    var events = perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType()).toList();
    assertThat(events).containsSubsequence(
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  }

  @Test
  void tryCancelResolvesAtOnceAndTheActivityStillLearnsOfIt() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-cancelled", null, 60_000, 0, 0, 2000, 0,
        null, "TRY_CANCEL", 1500, false);
    assertThat(workflow().run(plan)).isEqualTo("activity ended: CanceledFailure");
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(plan.key()).contains("cancelled"));
  }

  @Test
  void abandonResolvesAtOnceWithoutAskingTheServerToCancel() {
    worker();
    String workflowId = "abandon-" + UUID.randomUUID();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-interrupted", null, 60_000, 0, 0, 2000, 0,
        null, "ABANDON", 1500, false);
    assertThat(workflow(workflowId).run(plan)).isEqualTo("activity ended: CanceledFailure");
    var events = perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType()).toList();
    assertThat(events).doesNotContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
    // The abandoned attempt learns that its workflow is gone at its next heartbeat.
    await().atMost(Duration.ofSeconds(20))
        .until(() -> journal.get(plan.key()).contains("ActivityNotExistsException"));
  }

  @Test
  void terminatingTheWorkflowEndsItsRunningActivity() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-interrupted", null, 60_000, 0, 0, 2000, 0,
        null, null, 0, false);
    PlanWorkflow workflow = workflow();
    WorkflowExecution execution = WorkflowClient.start(workflow::run, plan);
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(plan.key()));
    WorkflowStub.fromTyped(workflow).terminate("operator says so");
    await().atMost(Duration.ofSeconds(20))
        .until(() -> journal.get(plan.key()).contains("ActivityNotExistsException"));
    assertThat(perdura.service().blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(execution).build()).getPendingActivitiesList()).isEmpty();
  }

  @Test
  void cancellingAnActivityThatHasNotStartedCancelsItAtOnce() {
    worker();
    String workflowId = "cancel-queued-" + UUID.randomUUID();
    Plan plan = new Plan(UUID.randomUUID().toString(), "ok", "nobody-polls-" + UUID.randomUUID(), 10_000, 0, 0, 0, 0,
        null, "WAIT_CANCELLATION_COMPLETED", 500, false);
    assertThat(workflow(workflowId).run(plan)).isEqualTo("activity ended: CanceledFailure");
    var canceled = perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED).toList();
    assertThat(canceled).singleElement()
        .satisfies(e -> assertThat(e.getActivityTaskCanceledEventAttributes().getStartedEventId()).isZero());
  }

  @Test
  void asyncCompletionByTokenFromAnotherThread() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "async", null, 30_000, 0, 0, 0, 0, null, null, 0, false);
    PlanWorkflow workflow = workflow();
    WorkflowClient.start(workflow::run, plan);
    await().atMost(Duration.ofSeconds(20)).until(() -> tokens.containsKey(plan.key()));
    ActivityCompletionClient completions = perdura.client().newActivityCompletionClient();
    Thread completer = Thread.ofVirtual().start(
        () -> completions.complete(tokens.get(plan.key()).get(), "completed elsewhere"));
    assertThat(WorkflowStub.fromTyped(workflow).getResult(String.class)).isEqualTo("completed elsewhere");
    // A second completion with the same token is stale: rejected, never applied twice.
    assertThatThrownBy(() -> completions.complete(tokens.get(plan.key()).get(), "again"))
        .isInstanceOf(io.temporal.client.ActivityNotExistsException.class);
    assertThat(completer.isAlive()).isFalse();
  }

  @Test
  void asyncCompletionByIdFromAnotherClient() {
    worker();
    String workflowId = "async-id-" + UUID.randomUUID();
    Plan plan = new Plan(UUID.randomUUID().toString(), "async", null, 30_000, 0, 0, 0, 0, null, null, 0, false);
    PlanWorkflow workflow = workflow(workflowId);
    WorkflowExecution execution = WorkflowClient.start(workflow::run, plan);
    await().atMost(Duration.ofSeconds(20)).until(() -> tokens.containsKey(plan.key()));
    String activityId = perdura.service().blockingStub().describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(execution).build())
        .getPendingActivities(0).getActivityId();
    WorkflowClient other = WorkflowClient.newInstance(perdura.service());
    other.newActivityCompletionClient().complete(workflowId, java.util.Optional.of(execution.getRunId()), activityId,
        "completed by id");
    assertThat(WorkflowStub.fromTyped(workflow).getResult(String.class)).isEqualTo("completed by id");
  }

  @Test
  void pauseReachesAHeartbeatingActivityAndUnpauseRunsItAgain() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-paused", null, 60_000, 0, 0, 2000, 0,
        null, null, 0, false);
    PlanWorkflow workflow = workflow();
    WorkflowExecution execution = WorkflowClient.start(workflow::run, plan);
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(plan.key()));
    var stub = perdura.service().blockingStub();
    String activityId = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(execution).build()).getPendingActivities(0).getActivityId();
    stub.pauseActivity(PauseActivityRequest.newBuilder().setNamespace("default").setExecution(execution)
        .setId(activityId).setReason("test").setIdentity("operator").build());
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(plan.key()).contains("paused"));
    await().atMost(Duration.ofSeconds(20)).until(() -> stub.describeWorkflowExecution(
            DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(execution).build())
        .getPendingActivities(0).getPaused());
    int runsWhilePaused = journal.get(plan.key()).size();

    stub.unpauseActivity(UnpauseActivityRequest.newBuilder().setNamespace("default").setExecution(execution)
        .setId(activityId).build());
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(plan.key()).size() > runsWhilePaused);
    assertThat(journal.get(plan.key())).contains("heartbeat-until-paused@2");
    WorkflowStub.fromTyped(workflow).terminate("done");
  }

  @Test
  void resetReachesAHeartbeatingActivityWhichStartsOverFromAttemptOne() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "heartbeat-until-interrupted", null, 60_000, 0, 0, 2000, 0,
        null, null, 0, false);
    PlanWorkflow workflow = workflow();
    WorkflowExecution execution = WorkflowClient.start(workflow::run, plan);
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.containsKey(plan.key()));
    var stub = perdura.service().blockingStub();
    String activityId = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(execution).build()).getPendingActivities(0).getActivityId();
    stub.resetActivity(ResetActivityRequest.newBuilder().setNamespace("default").setExecution(execution)
        .setId(activityId).setIdentity("operator").build());
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(plan.key()).contains("ActivityResetException"));
    await().atMost(Duration.ofSeconds(20)).until(() -> journal.get(plan.key()).stream()
        .filter(e -> e.equals("heartbeat-until-interrupted@1")).count() == 2);
    WorkflowStub.fromTyped(workflow).terminate("done");
  }

  @Test
  void updatingTheTaskQueueOfAWaitingActivityLetsAnotherWorkerRunIt() {
    worker();
    Plan plan = new Plan(UUID.randomUUID().toString(), "ok", "nobody-polls-" + UUID.randomUUID(), 10_000, 0, 0, 0, 0,
        null, null, 0, false);
    PlanWorkflow workflow = workflow();
    WorkflowExecution execution = WorkflowClient.start(workflow::run, plan);
    var stub = perdura.service().blockingStub();
    await().atMost(Duration.ofSeconds(20)).until(() -> stub.describeWorkflowExecution(
        DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(execution).build())
        .getPendingActivitiesCount() == 1);
    String activityId = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
        .setNamespace("default").setExecution(execution).build()).getPendingActivities(0).getActivityId();
    stub.updateActivityOptions(UpdateActivityOptionsRequest.newBuilder().setNamespace("default")
        .setExecution(execution).setId(activityId)
        .setActivityOptions(io.temporal.api.activity.v1.ActivityOptions.newBuilder()
            .setTaskQueue(io.temporal.api.taskqueue.v1.TaskQueue.newBuilder().setName(queue)))
        .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addPaths("task_queue.name"))
        .build());
    assertThat(WorkflowStub.fromTyped(workflow).getResult(String.class)).isEqualTo("done");
  }

  @Test
  void localActivitiesRunInTheWorkerAndAreRecordedAsMarkers() {
    worker();
    String workflowId = "local-" + UUID.randomUUID();
    Plan plan = new Plan(UUID.randomUUID().toString(), "ok", null, 10_000, 0, 0, 0, 0, null, null, 0, true);
    assertThat(workflow(workflowId).run(plan)).isEqualTo("done");
    var events = perdura.client().fetchHistory(workflowId).getHistory().getEventsList();
    assertThat(events).extracting(e -> e.getEventType()).contains(EventType.EVENT_TYPE_MARKER_RECORDED)
        .doesNotContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  }

  @Test
  void aLocalActivityLongerThanTheWorkflowTaskTimeoutKeepsTheTaskAlive() {
    worker();
    String workflowId = "local-long-" + UUID.randomUUID();
    PlanWorkflow workflow = perdura.client().newWorkflowStub(PlanWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(queue)
        .setWorkflowId(workflowId)
        .setWorkflowTaskTimeout(Duration.ofSeconds(2))
        .build());
    Plan plan = new Plan(UUID.randomUUID().toString(), "sleep-first", null, 10_000, 0, 0, 0, 0, null, null, 0, true);
    assertThat(workflow.run(plan)).isEqualTo("attempt 1");
    var events = perdura.client().fetchHistory(workflowId).getHistory().getEventsList().stream()
        .map(e -> e.getEventType()).toList();
    assertThat(events).doesNotContain(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
    assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).count())
        .isGreaterThan(1);
  }

  private static String originalMessage(Throwable workflowFailure) {
    Throwable root = workflowFailure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertThat(root).isInstanceOf(ApplicationFailure.class);
    return ((ApplicationFailure) root).getOriginalMessage();
  }

  private static Throwable catchFailure(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("expected the workflow to fail");
  }
}
