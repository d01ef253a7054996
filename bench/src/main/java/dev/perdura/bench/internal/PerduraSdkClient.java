package dev.perdura.bench.internal;

import dev.perdura.activity.Activity;
import dev.perdura.activity.ActivityCanceledException;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.bench.BenchClient;
import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.client.WorkflowHandle;
import dev.perdura.common.RetryPolicy;
import dev.perdura.failure.ActivityFailure;
import dev.perdura.failure.CanceledFailure;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import dev.perdura.workflow.ActivityCancellationType;
import dev.perdura.workflow.ActivityHandle;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.LocalActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * {@link BenchClient} over Perdura's own Java SDK: the same workflows and activities as {@link
 * TemporalSdkClient} (same type names, same steps), with a Perdura worker in this process on a task
 * queue unique to this instance, and the same numbers of pollers.
 */
public final class PerduraSdkClient implements BenchClient {
  private static final TemporalSdkClient.ActivityClock CLOCK = new TemporalSdkClient.ActivityClock();

  private final PerduraClient client;
  private final Worker worker;
  private final String taskQueue;

  private PerduraSdkClient(String target, String namespace) {
    client = PerduraClient.connect(ClientOptions.target(target).withNamespace(namespace));
    try {
      taskQueue = "bench-" + UUID.randomUUID();
      worker = Worker.create(client, taskQueue, WorkerOptions.DEFAULTS
          .withActivityPollers(TemporalSdkClient.POLLERS)
          .withWorkflowPollers(TemporalSdkClient.POLLERS));
      worker.registerWorkflows(BenchActivities.class, BenchLocalActivities.class, BenchCancel.class).registerActivities(new Activities());
      worker.start();
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** Connects to {@code target} ({@code host:port}) and starts the worker. */
  public static PerduraSdkClient connect(String target, String namespace) {
    return new PerduraSdkClient(target, namespace);
  }

  @Override
  public String name() {
    return "perdura-sdk";
  }

  private <T> T result(WorkflowHandle handle, Class<T> type) {
    try {
      return handle.result(type, TemporalSdkClient.RESULT_TIMEOUT);
    } catch (TimeoutException e) {
      throw new IllegalStateException("no result within " + TemporalSdkClient.RESULT_TIMEOUT, e);
    }
  }

  @Override
  public void runWorkflow(String workflowId, int activities, Step step) {
    result(client.startWorkflow(workflowType(step), StartWorkflowOptions.of(workflowId, taskQueue), activities, false),
        Integer.class);
  }

  private static String workflowType(Step step) {
    return step == Step.ACTIVITY ? "BenchActivities" : "BenchLocalActivities";
  }

  @Override
  public SequenceTiming runTimedWorkflow(String workflowId, int activities, Step step) {
    long start = System.nanoTime();
    result(client.startWorkflow(workflowType(step), StartWorkflowOptions.of(workflowId, taskQueue), activities, true),
        Integer.class);
    long end = System.nanoTime();
    List<Long> returns = CLOCK.take(workflowId);
    if (returns.size() != activities) {
      throw new IllegalStateException(workflowId + ": " + returns.size() + " activity runs recorded, expected " + activities);
    }
    return new SequenceTiming(start, returns, end);
  }

  @Override
  public CancelTiming runCancellation(String workflowId, Duration heartbeatTimeout, Duration delayBeforeCancel) {
    long issued = result(client.startWorkflow("BenchCancel", StartWorkflowOptions.of(workflowId, taskQueue),
        heartbeatTimeout.toMillis(), delayBeforeCancel.toMillis()), Long.class);
    List<Long> observed = CLOCK.take(workflowId);
    if (observed.size() != 1) {
      throw new IllegalStateException(workflowId + ": the activity recorded " + observed.size() + " cancellations, expected 1");
    }
    return new CancelTiming(issued, observed.get(0));
  }

  @Override
  public void close() {
    try {
      worker.close();
    } finally {
      client.close();
    }
  }

  /** One trivial activity after the other (type {@code BenchActivities}, as with the Temporal SDK). */
  public static final class BenchActivities {
    private static final ActivityOptions OPTIONS = ActivityOptions.startToClose(Duration.ofMinutes(1));

    @WorkflowMethod
    public int run(int count, boolean timed) {
      for (int i = 0; i < count; i++) {
        Workflow.executeActivity("Noop", Void.class, OPTIONS, i, timed);
      }
      return count;
    }
  }

  /** One trivial local activity after the other (type {@code BenchLocalActivities}). */
  public static final class BenchLocalActivities {
    private static final LocalActivityOptions OPTIONS = LocalActivityOptions.startToClose(Duration.ofMinutes(1));

    @WorkflowMethod
    public int run(int count, boolean timed) {
      for (int i = 0; i < count; i++) {
        Workflow.executeLocalActivity("Noop", Void.class, OPTIONS, i, timed);
      }
      return count;
    }
  }

  /** Start, sleep, cancel through the handle, wait until the activity has stopped. */
  public static final class BenchCancel {
    @WorkflowMethod
    public long run(long heartbeatTimeoutMillis, long delayMillis) {
      ActivityHandle<Void> activity = Workflow.startActivity("HeartbeatUntilCancelled", Void.class,
          ActivityOptions.startToClose(Duration.ofMinutes(10))
              .withHeartbeatTimeout(Duration.ofMillis(heartbeatTimeoutMillis))
              .withCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
              .withRetryPolicy(RetryPolicy.maximumAttempts(1)));
      Workflow.sleep(Duration.ofMillis(delayMillis));
      long issued = Workflow.sideEffect(Long.class, System::currentTimeMillis);
      activity.cancel();
      try {
        activity.result();
      } catch (ActivityFailure e) {
        if (e.getCause() instanceof CanceledFailure) {
          return issued;
        }
        throw e;
      }
      throw new IllegalStateException("the activity finished without being cancelled");
    }
  }

  /** The benchmark's activities, recording into the shared clock. */
  public static final class Activities {
    @ActivityMethod(name = "Noop")
    public void noop(int index, boolean timed) {
      if (timed) {
        CLOCK.record(Activity.info().workflowId().orElseThrow(), System.nanoTime());
      }
    }

    @ActivityMethod(name = "HeartbeatUntilCancelled")
    public void heartbeatUntilCancelled() throws InterruptedException {
      long deadline = System.nanoTime() + TemporalSdkClient.BenchActivitiesImpl.MAX_HEARTBEATING.toNanos();
      try {
        for (int beat = 0; System.nanoTime() < deadline; beat++) {
          Activity.heartbeat(beat);
          Thread.sleep(5);
        }
      } catch (ActivityCanceledException | InterruptedException e) {
        // A cancelled activity's thread is interrupted too: whichever comes first is the observation.
        CLOCK.record(Activity.info().workflowId().orElseThrow(), System.currentTimeMillis());
        throw e;
      }
      throw new IllegalStateException("no cancellation within " + TemporalSdkClient.BenchActivitiesImpl.MAX_HEARTBEATING);
    }
  }
}
