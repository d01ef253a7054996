package dev.perdura.bench.internal;

import dev.perdura.bench.BenchClient;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link BenchClient} over the official Temporal Java SDK: a client and, in this process, a worker
 * for the benchmark's workflows and activities on a task queue unique to this instance.
 *
 * <p>The worker configuration is the same whatever the server: virtual threads for workflow code,
 * pollers and activities; 8 workflow-task and 8 activity-task pollers; everything else the SDK's
 * defaults.
 */
public final class TemporalSdkClient implements BenchClient {
  /** How long a client waits for one workflow's result before giving up. */
  static final Duration RESULT_TIMEOUT = Duration.ofMinutes(5);
  static final int POLLERS = 8;

  private final WorkflowServiceStubs service;
  private final WorkflowClient client;
  private final WorkerFactory factory;
  private final String taskQueue;
  private final ActivityClock clock = new ActivityClock();

  private TemporalSdkClient(String target, String namespace) {
    service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
    try {
      client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
      factory = WorkerFactory.newInstance(client, WorkerFactoryOptions.newBuilder().setUsingVirtualWorkflowThreads(true).build());
      taskQueue = "bench-" + UUID.randomUUID();
      Worker worker = factory.newWorker(taskQueue, WorkerOptions.newBuilder()
          .setUsingVirtualThreads(true)
          .setMaxConcurrentWorkflowTaskPollers(POLLERS)
          .setMaxConcurrentActivityTaskPollers(POLLERS)
          .build());
      worker.registerWorkflowImplementationTypes(ActivitiesWorkflowImpl.class, LocalActivitiesWorkflowImpl.class,
          CancelWorkflowImpl.class);
      worker.registerActivitiesImplementations(new BenchActivitiesImpl(clock));
      factory.start();
    } catch (RuntimeException e) {
      service.shutdownNow();
      throw e;
    }
  }

  /** Connects to {@code target} ({@code host:port}) and starts the worker. */
  public static TemporalSdkClient connect(String target, String namespace) {
    return new TemporalSdkClient(target, namespace);
  }

  @Override
  public String name() {
    return "temporal-sdk";
  }

  /** The task queue this client's worker polls. */
  public String taskQueue() {
    return taskQueue;
  }

  private WorkflowOptions options(String workflowId) {
    return WorkflowOptions.newBuilder().setWorkflowId(workflowId).setTaskQueue(taskQueue).build();
  }

  private static <T> T result(Object typedStub, Class<T> type) {
    return result(WorkflowStub.fromTyped(typedStub), type);
  }

  private static <T> T result(WorkflowStub workflow, Class<T> type) {
    try {
      return workflow.getResult(RESULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS, type);
    } catch (TimeoutException e) {
      throw new IllegalStateException("no result within " + RESULT_TIMEOUT, e);
    }
  }

  @Override
  public void runWorkflow(String workflowId, int activities, Step step) {
    WorkflowStub workflow = stub(workflowId, step);
    workflow.start(activities, false);
    result(workflow, Integer.class);
  }

  private WorkflowStub stub(String workflowId, Step step) {
    return client.newUntypedWorkflowStub(step == Step.ACTIVITY ? "BenchActivities" : "BenchLocalActivities",
        options(workflowId));
  }

  @Override
  public SequenceTiming runTimedWorkflow(String workflowId, int activities, Step step) {
    WorkflowStub workflow = stub(workflowId, step);
    long start = System.nanoTime();
    workflow.start(activities, true);
    result(workflow, Integer.class);
    long end = System.nanoTime();
    List<Long> returns = clock.take(workflowId);
    if (returns.size() != activities) {
      throw new IllegalStateException(workflowId + ": " + returns.size() + " activity runs recorded, expected " + activities);
    }
    return new SequenceTiming(start, returns, end);
  }

  @Override
  public CancelTiming runCancellation(String workflowId, Duration heartbeatTimeout, Duration delayBeforeCancel) {
    CancelWorkflow workflow = client.newWorkflowStub(CancelWorkflow.class, options(workflowId));
    WorkflowClient.start(workflow::run, heartbeatTimeout.toMillis(), delayBeforeCancel.toMillis());
    long issued = result(workflow, Long.class);
    List<Long> observed = clock.take(workflowId);
    if (observed.size() != 1) {
      throw new IllegalStateException(workflowId + ": the activity recorded " + observed.size() + " cancellations, expected 1");
    }
    return new CancelTiming(issued, observed.get(0));
  }

  @Override
  public void close() {
    try {
      factory.shutdownNow();
      factory.awaitTermination(10, TimeUnit.SECONDS);
    } finally {
      service.shutdownNow();
      service.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Times recorded by activities, per workflow id, for the client to pick up after the result. */
  static final class ActivityClock {
    private final Map<String, List<Long>> times = new ConcurrentHashMap<>();

    void record(String workflowId, long time) {
      times.computeIfAbsent(workflowId, id -> Collections.synchronizedList(new ArrayList<>())).add(time);
    }

    List<Long> take(String workflowId) {
      List<Long> recorded = times.remove(workflowId);
      if (recorded == null) {
        return List.of();
      }
      synchronized (recorded) {
        return List.copyOf(recorded);
      }
    }
  }

  /** Runs trivial activities in sequence. */
  @WorkflowInterface
  public interface ActivitiesWorkflow {
    /** Runs {@code activities} activities; {@code timed} asks them to record when they return. */
    @WorkflowMethod(name = "BenchActivities")
    int run(int activities, boolean timed);
  }

  /** Runs trivial local activities in sequence. */
  @WorkflowInterface
  public interface LocalActivitiesWorkflow {
    /** Runs {@code activities} local activities; {@code timed} asks them to record when they return. */
    @WorkflowMethod(name = "BenchLocalActivities")
    int run(int activities, boolean timed);
  }

  /** Starts a heartbeating activity and cancels it. */
  @WorkflowInterface
  public interface CancelWorkflow {
    /** Returns the wall time (ms) at which the workflow asked for the cancellation. */
    @WorkflowMethod(name = "BenchCancel")
    long run(long heartbeatTimeoutMillis, long delayMillis);
  }

  /** The benchmark's activities. */
  @ActivityInterface
  public interface BenchActivities {
    /** Does nothing; when {@code timed}, records when it returns. */
    void noop(int index, boolean timed);

    /** Heartbeats until cancelled, then records when it learnt of it and rethrows. */
    void heartbeatUntilCancelled();
  }

  /** {@link ActivitiesWorkflow}: one activity after the other. */
  public static final class ActivitiesWorkflowImpl implements ActivitiesWorkflow {
    private final BenchActivities activities = Workflow.newActivityStub(BenchActivities.class,
        ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(1)).build());

    @Override
    public int run(int count, boolean timed) {
      for (int i = 0; i < count; i++) {
        activities.noop(i, timed);
      }
      return count;
    }
  }

  /** {@link LocalActivitiesWorkflow}: one local activity after the other. */
  public static final class LocalActivitiesWorkflowImpl implements LocalActivitiesWorkflow {
    private final BenchActivities activities = Workflow.newLocalActivityStub(BenchActivities.class,
        LocalActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(1)).build());

    @Override
    public int run(int count, boolean timed) {
      for (int i = 0; i < count; i++) {
        activities.noop(i, timed);
      }
      return count;
    }
  }

  /** {@link CancelWorkflow}: start, sleep, cancel, wait until the activity has stopped. */
  public static final class CancelWorkflowImpl implements CancelWorkflow {
    @Override
    public long run(long heartbeatTimeoutMillis, long delayMillis) {
      BenchActivities activities = Workflow.newActivityStub(BenchActivities.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofMinutes(10))
          .setHeartbeatTimeout(Duration.ofMillis(heartbeatTimeoutMillis))
          .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
          .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
          .build());
      List<Promise<Void>> running = new ArrayList<>(1);
      CancellationScope scope = Workflow.newCancellationScope(
          () -> running.add(Async.procedure(activities::heartbeatUntilCancelled)));
      scope.run();
      Workflow.sleep(Duration.ofMillis(delayMillis));
      long issued = Workflow.sideEffect(Long.class, System::currentTimeMillis);
      scope.cancel();
      try {
        running.get(0).get();
      } catch (ActivityFailure e) {
        if (!(e.getCause() instanceof CanceledFailure)) {
          throw e;
        }
        return issued;
      }
      throw new IllegalStateException("the activity finished without being cancelled");
    }
  }

  /** {@link BenchActivities}, recording into the client's {@link ActivityClock}. */
  static final class BenchActivitiesImpl implements BenchActivities {
    /** A heartbeating activity gives up after this long without a cancellation. */
    static final Duration MAX_HEARTBEATING = Duration.ofMinutes(5);
    private final ActivityClock clock;

    BenchActivitiesImpl(ActivityClock clock) {
      this.clock = clock;
    }

    @Override
    public void noop(int index, boolean timed) {
      if (timed) {
        clock.record(Activity.getExecutionContext().getInfo().getWorkflowId(), System.nanoTime());
      }
    }

    @Override
    public void heartbeatUntilCancelled() {
      ActivityExecutionContext context = Activity.getExecutionContext();
      long deadline = System.nanoTime() + MAX_HEARTBEATING.toNanos();
      for (int beat = 0; System.nanoTime() < deadline; beat++) {
        try {
          context.heartbeat(beat);
        } catch (ActivityCanceledException e) {
          clock.record(context.getInfo().getWorkflowId(), System.currentTimeMillis());
          throw e;
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Activity.wrap(e);
        }
      }
      throw new IllegalStateException("no cancellation within " + MAX_HEARTBEATING);
    }
  }
}
