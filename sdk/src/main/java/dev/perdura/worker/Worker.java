package dev.perdura.worker;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.client.PerduraClient;
import dev.perdura.internal.activity.ActivityExecution;
import dev.perdura.internal.activity.ActivityRegistry;
import dev.perdura.internal.activity.ActivityTaskRunner;
import dev.perdura.internal.activity.LocalActivityRunner;
import dev.perdura.internal.activity.WorkerShutdownSignal;
import dev.perdura.internal.grpc.ClientAccess;
import dev.perdura.internal.grpc.ServiceConnection;
import dev.perdura.internal.workflow.WorkflowRegistry;
import dev.perdura.internal.workflow.WorkflowTaskHandler;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.ShutdownWorkerRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls one task queue and runs the activities registered on it.
 *
 * <pre>{@code
 * Worker worker = Worker.create(client, "orders", WorkerOptions.DEFAULTS);
 * worker.registerActivities(new Shipping(), new Billing());
 * worker.start();
 * ...
 * worker.close();   // graceful: see shutdown()
 * }</pre>
 *
 * <p>At most {@link WorkerOptions#maxConcurrentActivities()} activities run at once; the worker only
 * polls while it has a free slot. Poll errors back off exponentially (up to 10 s), never spin.
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);
  private static final long MAX_BACKOFF_MILLIS = 10_000;
  private static final Duration CANCELLED_ACTIVITIES_WAIT = Duration.ofSeconds(30);

  private final PerduraClient client;
  private final ServiceConnection connection;
  private final String taskQueue;
  private final WorkerOptions options;
  private final String instanceKey = UUID.randomUUID().toString();
  private final ActivityRegistry registry = new ActivityRegistry();
  private final WorkflowRegistry workflows = new WorkflowRegistry();
  private final WorkflowTaskHandler workflowTasks;
  private final Semaphore workflowSlots;
  /** This worker's own workflow queue: the server sends the tasks of runs it has cached there. */
  private final String stickyQueue;
  private final WorkerShutdownSignal shutdownSignal = new WorkerShutdownSignal();
  private final ScheduledExecutorService scheduler;
  private final ActivityTaskRunner runner;
  private final Semaphore slots;
  private final Set<ActivityExecution> running = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.locks.ReentrantLock inFlightLock = new java.util.concurrent.locks.ReentrantLock();
  private final java.util.concurrent.locks.Condition idle = inFlightLock.newCondition();
  private int inFlight;
  private final List<Thread> pollers = new ArrayList<>();
  private volatile boolean started;
  private volatile boolean stopping;
  private Thread shutdownThread;

  private Worker(PerduraClient client, String taskQueue, WorkerOptions options) {
    if (taskQueue == null || taskQueue.isBlank()) {
      throw new IllegalArgumentException("taskQueue must not be blank");
    }
    this.client = client;
    this.connection = ClientAccess.connection(client);
    this.taskQueue = taskQueue;
    this.options = options;
    this.slots = new Semaphore(options.maxConcurrentActivities());
    this.workflowSlots = new Semaphore(options.maxConcurrentWorkflowTasks());
    this.stickyQueue = taskQueue + "-sticky-" + instanceKey;
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1,
        Thread.ofPlatform().daemon().name("perdura-worker-timers-" + taskQueue).factory());
    timers.setRemoveOnCancelPolicy(true);
    this.scheduler = timers;
    this.runner = new ActivityTaskRunner(client, connection, client.options().identity(), registry, shutdownSignal,
        scheduler, options.metricMeter());
    this.workflowTasks = new WorkflowTaskHandler(client, connection, workflows, taskQueue, stickyQueue,
        options.workflowCacheSize(), new LocalActivityRunner(client, registry, runner, shutdownSignal, scheduler,
            options.metricMeter(), taskQueue), new EagerSlots());
  }

  public static Worker create(PerduraClient client, String taskQueue, WorkerOptions options) {
    return new Worker(client, taskQueue, options);
  }

  public static Worker create(PerduraClient client, String taskQueue) {
    return new Worker(client, taskQueue, WorkerOptions.DEFAULTS);
  }

  public String taskQueue() {
    return taskQueue;
  }

  /**
   * Registers every {@code @ActivityMethod} of each object.
   *
   * @throws IllegalArgumentException on a duplicate type name or an invalid definition
   * @throws IllegalStateException after {@link #start()}
   */
  public Worker registerActivities(Object... implementations) {
    if (started) {
      throw new IllegalStateException("register activities before start()");
    }
    for (Object implementation : implementations) {
      registry.register(implementation);
    }
    return this;
  }

  /**
   * Registers workflow classes (each with a {@code @WorkflowMethod} and a public no-argument
   * constructor); a new instance runs each workflow execution.
   *
   * @throws IllegalArgumentException on a duplicate type name or an invalid class
   * @throws IllegalStateException after {@link #start()}
   */
  public Worker registerWorkflows(Class<?>... workflowClasses) {
    if (started) {
      throw new IllegalStateException("register workflows before start()");
    }
    for (Class<?> type : workflowClasses) {
      workflows.register(type);
    }
    return this;
  }

  /** Starts polling. */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("worker of " + taskQueue + " already started");
    }
    if (registry.isEmpty() && workflows.isEmpty()) {
      throw new IllegalStateException("no activities or workflows registered on the worker of " + taskQueue);
    }
    started = true;
    if (!registry.isEmpty()) {
      for (int i = 0; i < options.activityPollers(); i++) {
        pollers.add(Thread.ofVirtual().name("perdura-activity-poller-" + taskQueue + "-" + i)
            .start(() -> pollLoop("activity", slots, this::poll, this::dispatch)));
      }
    }
    if (!workflows.isEmpty()) {
      connection.eagerWorkflows().register(taskQueue, eagerWorkflowSlots);
      for (int i = 0; i < options.workflowPollers(); i++) {
        pollers.add(Thread.ofVirtual().name("perdura-workflow-poller-" + taskQueue + "-" + i)
            .start(() -> pollLoop("workflow", workflowSlots, () -> pollWorkflowTask(taskQueue, false),
                this::dispatchWorkflowTask)));
      }
      if (options.workflowCacheSize() > 0) {
        // As many as on the normal queue: with one, every cached run's next task waited for the
        // previous one's poll round trip, which capped a worker at a few hundred tasks a second.
        for (int i = 0; i < options.workflowPollers(); i++) {
          pollers.add(Thread.ofVirtual().name("perdura-sticky-poller-" + taskQueue + "-" + i)
              .start(() -> pollLoop("sticky workflow", workflowSlots, () -> pollWorkflowTask(stickyQueue, true),
                  this::dispatchWorkflowTask)));
        }
      }
    }
    log.info("worker started on task queue {} in namespace {} with activities {} and workflows {}", taskQueue,
        client.namespace(), registry.names(), workflows.names());
  }

  /**
   * Polls while the worker runs: takes a slot, polls, hands the task over (which then owns the slot);
   * on errors backs off exponentially up to {@link #MAX_BACKOFF_MILLIS}.
   */
  private <T> void pollLoop(String kind, Semaphore slotsOfKind, java.util.function.Supplier<Optional<T>> poll,
      java.util.function.Predicate<T> dispatch) {
    long backoff = 0;
    while (!stopping) {
      try {
        slotsOfKind.acquire();
      } catch (InterruptedException e) {
        return;
      }
      boolean handedOff = false;
      try {
        Optional<T> task = poll.get();
        backoff = 0;
        if (task.isPresent()) {
          handedOff = dispatch.test(task.get());
        }
      } catch (StatusRuntimeException e) {
        if (stopping) {
          return;
        }
        backoff = backoff == 0 ? 100 : Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        log.warn("polling {} tasks of task queue {} failed ({}); retrying in {} ms", kind, taskQueue, e.getStatus(),
            backoff);
        try {
          Thread.sleep(backoff + (long) (Math.random() * backoff / 5));
        } catch (InterruptedException interrupted) {
          return;
        }
      } finally {
        if (!handedOff) {
          slotsOfKind.release();
        }
      }
    }
  }

  private Optional<PollWorkflowTaskQueueResponse> pollWorkflowTask(String queue, boolean sticky) {
    TaskQueue.Builder polled = TaskQueue.newBuilder().setName(queue)
        .setKind(sticky ? TaskQueueKind.TASK_QUEUE_KIND_STICKY : TaskQueueKind.TASK_QUEUE_KIND_NORMAL);
    if (sticky) {
      polled.setNormalName(taskQueue);
    }
    PollWorkflowTaskQueueResponse response = connection.longPoll().pollWorkflowTaskQueue(
        PollWorkflowTaskQueueRequest.newBuilder()
            .setNamespace(client.namespace())
            .setTaskQueue(polled)
            .setIdentity(client.options().identity())
            .setWorkerInstanceKey(instanceKey)
            .build());
    return response.getTaskToken().isEmpty() ? Optional.empty() : Optional.of(response);
  }

  private boolean dispatchWorkflowTask(PollWorkflowTaskQueueResponse task) {
    Thread.ofVirtual().name("workflow-task-" + task.getWorkflowExecution().getWorkflowId()).start(() -> {
      List<PollActivityTaskQueueResponse> activities;
      try {
        activities = workflowTasks.handle(task);
      } finally {
        workflowSlots.release();
      }
      // This thread has nothing else to do: the last activity runs on it, one thread start less
      // between a workflow task and the activity it schedules (a workflow's sequential steps).
      for (int i = 0; i < activities.size(); i++) {
        if (!dispatch(activities.get(i), i == activities.size() - 1)) {
          slots.release();
        }
      }
    });
    return true;
  }

  private Optional<PollActivityTaskQueueResponse> poll() {
    PollActivityTaskQueueResponse response = connection.longPoll().pollActivityTaskQueue(
        PollActivityTaskQueueRequest.newBuilder()
            .setNamespace(client.namespace())
            .setTaskQueue(TaskQueue.newBuilder().setName(taskQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
            .setIdentity(client.options().identity())
            .setWorkerInstanceKey(instanceKey)
            .build());
    return response.getTaskToken().isEmpty() ? Optional.empty() : Optional.of(response);
  }

  private boolean dispatch(PollActivityTaskQueueResponse task) {
    return dispatch(task, false);
  }

  /**
   * Starts the activity on its own thread, or runs it on this one when {@code here} (and no
   * activity executor is configured); true when the slot now belongs to it.
   */
  private boolean dispatch(PollActivityTaskQueueResponse task, boolean here) {
    ActivityInfo info = ActivityTaskRunner.info(task, client.namespace(), taskQueue);
    Optional<ActivityExecution> prepared = runner.prepare(info);
    if (prepared.isEmpty()) {
      return false;
    }
    ActivityExecution execution = prepared.get();
    running.add(execution);
    changeInFlight(1);
    Runnable body = () -> {
      try {
        runner.run(execution, task.getInput());
      } catch (RuntimeException | Error e) {
        log.error("activity {} ({}) of workflow {} broke the worker's runner", info.activityId(), info.activityType(),
            info.workflowId().orElse("-"), e);
      } finally {
        running.remove(execution);
        changeInFlight(-1);
        slots.release();
      }
    };
    String threadName = "activity-" + info.activityType() + "-" + info.activityId();
    if (options.activityExecutor() == null && here) {
      Thread.currentThread().setName(threadName);
      body.run();
    } else if (options.activityExecutor() == null) {
      Thread.ofVirtual().name(threadName).start(body);
    } else {
      options.activityExecutor().execute(body);
    }
    return true;
  }

  /** The workflow-task slots, offered to the runs this worker's client starts on its queue. */
  private final dev.perdura.internal.workflow.EagerWorkflows.Slots eagerWorkflowSlots =
      new dev.perdura.internal.workflow.EagerWorkflows.Slots() {
        @Override
        public boolean tryReserve(String workflowType) {
          return started && !stopping && workflows.lookup(workflowType).isPresent() && workflowSlots.tryAcquire();
        }

        @Override
        public void run(PollWorkflowTaskQueueResponse task) {
          dispatchWorkflowTask(task);
        }

        @Override
        public void release() {
          workflowSlots.release();
        }
      };

  /** The activity slots, offered to the activities this worker's workflow tasks schedule on its own queue. */
  private final class EagerSlots implements dev.perdura.internal.workflow.EagerActivities {
    @Override
    public boolean tryReserve(String activityType) {
      return started && !stopping && registry.lookup(activityType).isPresent() && slots.tryAcquire();
    }

    @Override
    public void release(int count) {
      slots.release(count);
    }
  }

  private void changeInFlight(int delta) {
    inFlightLock.lock();
    try {
      inFlight += delta;
      if (inFlight == 0) {
        idle.signalAll();
      }
    } finally {
      inFlightLock.unlock();
    }
  }

  private int inFlight() {
    inFlightLock.lock();
    try {
      return inFlight;
    } finally {
      inFlightLock.unlock();
    }
  }

  /** Waits until no activity runs or the time is up; false when interrupted. */
  private boolean awaitIdle(long untilNanos) {
    inFlightLock.lock();
    try {
      long remaining;
      while (inFlight > 0 && (remaining = untilNanos - System.nanoTime()) > 0) {
        idle.awaitNanos(remaining);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      inFlightLock.unlock();
    }
  }

  /** Whether {@link #shutdown()} has begun. */
  public boolean isShutdown() {
    return shutdownSignal.isSet();
  }

  /**
   * Begins a graceful shutdown and returns at once: activities see {@code isWorkerShutdown()} at once,
   * polling stops, running activities get the grace period to finish, then the rest are cancelled
   * with reason {@code worker_shutdown} and reported failed so the server retries them elsewhere.
   * Wait for the end with {@link #awaitTermination}.
   */
  public synchronized void shutdown() {
    if (shutdownThread != null) {
      return;
    }
    shutdownSignal.signal();
    stopping = true;
    connection.eagerWorkflows().unregister(taskQueue, eagerWorkflowSlots);
    log.info("worker of task queue {} shutting down: {} activities running, grace period {}", taskQueue,
        inFlight(), options.shutdownGracePeriod());
    try {
      connection.call().shutdownWorker(ShutdownWorkerRequest.newBuilder()
          .setNamespace(client.namespace())
          .setIdentity(client.options().identity())
          .setWorkerInstanceKey(instanceKey)
          .setTaskQueue(taskQueue)
          .addTaskQueueTypes(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
          .addTaskQueueTypes(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
          .setStickyTaskQueue(workflows.isEmpty() || options.workflowCacheSize() == 0 ? "" : stickyQueue)
          .setReason("graceful shutdown")
          .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        log.warn("ShutdownWorker for task queue {} failed ({}); polls end at their deadline", taskQueue, e.getStatus());
      }
    }
    pollers.forEach(Thread::interrupt);
    shutdownThread = Thread.ofVirtual().name("perdura-worker-shutdown-" + taskQueue).start(this::drain);
  }

  private void drain() {
    if (awaitIdle(System.nanoTime() + options.shutdownGracePeriod().toNanos())) {
      for (ActivityExecution execution : running) {
        execution.cancel(Reason.WORKER_SHUTDOWN);
      }
      // Cancelled activities report and end; one that ignores cancellation is left running.
      awaitIdle(System.nanoTime() + CANCELLED_ACTIVITIES_WAIT.toNanos());
      if (inFlight() > 0) {
        log.warn("worker of task queue {}: {} activities still running {} after cancellation; leaving them",
            taskQueue, inFlight(), CANCELLED_ACTIVITIES_WAIT);
      }
    }
    for (Thread poller : pollers) {
      try {
        poller.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    workflowTasks.closeCache();
    scheduler.shutdownNow();
    log.info("worker of task queue {} stopped", taskQueue);
  }

  /** Waits for a shutdown to end; returns whether it did within the timeout. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    Thread thread;
    synchronized (this) {
      thread = shutdownThread;
    }
    if (thread == null) {
      return !started;
    }
    return thread.join(timeout);
  }

  /** {@link #shutdown()} and wait up to the grace period plus 30 seconds. */
  @Override
  public void close() {
    shutdown();
    try {
      if (!awaitTermination(options.shutdownGracePeriod().plusSeconds(30))) {
        log.warn("worker of task queue {} still has {} activities running after close()", taskQueue, inFlight());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
