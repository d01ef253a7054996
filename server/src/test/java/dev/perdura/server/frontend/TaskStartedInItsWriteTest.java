package dev.perdura.server.frontend;

import static dev.perdura.server.frontend.DirectCalls.call;
import static dev.perdura.server.frontend.FrontendOverStore.startRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.Peers;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.TaskKind;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A task created while a poll waits on its queue is started for that poll in the write that
 * creates it: one commit instead of two, no task row, and the poll's identity on the start.
 */
class TaskStartedInItsWriteTest {
  private static final String NAMESPACE = "default";

  private final AtomicInteger commits = new AtomicInteger();
  private final AtomicBoolean failNextCommit = new AtomicBoolean();
  private final ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private FrontendOverStore engine;
  private Store real;
  private Matching matching;
  private WorkflowServiceFrontend frontend;

  @BeforeEach
  void start() {
    engine = new FrontendOverStore(NAMESPACE, metrics, Runnable::run, writes -> {
      if (failNextCommit.getAndSet(false)) {
        throw new StoreException("injected commit failure", null);
      }
      commits.incrementAndGet();
    });
    real = engine.real;
    matching = engine.matching;
    frontend = engine.frontend;
  }

  /** The backlog of a queue that a server started now on this store would restore. */
  private int backlogAfterRestart(String queue, TaskKind kind) {
    Matching restored = new Matching();
    // Not started: its timers stay disarmed, so it only reads.
    HistoryService restarted = new HistoryService(real, restored, Clock.systemUTC(), 1, new SimpleMeterRegistry(),
        Peers.NONE);
    try {
      restarted.acquireAll();
      return restored.queue(NAMESPACE, queue, kind).backlogSize();
    } finally {
      restarted.close();
      restored.close();
    }
  }

  @AfterEach
  void stop() {
    callers.shutdownNow();
    engine.close();
  }

  @Test
  void tasksCreatedWhilePollsWaitStartInTheWriteThatCreatesThem() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    String activityQueue = queue + "-activities";
    Future<PollWorkflowTaskQueueResponse> workflowPoll = pollWorkflowTask(queue, "worker-a");
    awaitWaitingPoll(queue, TaskKind.WORKFLOW);

    int before = commits.get();
    call(frontend::startWorkflowExecution, startRequest(NAMESPACE, queue, "wf-1"));
    PollWorkflowTaskQueueResponse task = workflowPoll.get(30, TimeUnit.SECONDS);

    assertThat(commits.get() - before).as("the start and the task's start in one commit").isEqualTo(1);
    List<HistoryEvent> events = task.getHistory().getEventsList();
    assertThat(events).extracting(HistoryEvent::getEventType).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    assertThat(events.get(2).getWorkflowTaskStartedEventAttributes().getIdentity()).isEqualTo("worker-a");
    assertThat(task.getStartedEventId()).isEqualTo(3);
    assertThat(backlogAfterRestart(queue, TaskKind.WORKFLOW)).as("the task was never stored as queued").isZero();

    Future<PollActivityTaskQueueResponse> activityPoll = pollActivityTask(activityQueue, "worker-b");
    awaitWaitingPoll(activityQueue, TaskKind.ACTIVITY);
    before = commits.get();
    call(frontend::respondWorkflowTaskCompleted, RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(task.getTaskToken())
        .setIdentity("worker-a")
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
            .setScheduleActivityTaskCommandAttributes(ScheduleActivityTaskCommandAttributes.newBuilder()
                .setActivityId("a-1")
                .setActivityType(ActivityType.newBuilder().setName("Greet"))
                .setTaskQueue(TaskQueue.newBuilder().setName(activityQueue))
                .setStartToCloseTimeout(com.google.protobuf.util.Durations.fromSeconds(30))))
        .build());
    PollActivityTaskQueueResponse activity = activityPoll.get(30, TimeUnit.SECONDS);

    assertThat(commits.get() - before).as("the completion and the activity's start in one commit").isEqualTo(1);
    assertThat(activity.getActivityId()).isEqualTo("a-1");
    assertThat(activity.getActivityType().getName()).isEqualTo("Greet");
    assertThat(backlogAfterRestart(activityQueue, TaskKind.ACTIVITY)).isZero();

    // With no poll waiting, the next workflow task is queued and stored as before.
    call(frontend::respondActivityTaskCompleted, RespondActivityTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(activity.getTaskToken())
        .setIdentity("worker-b")
        .build());
    assertThat(backlogAfterRestart(queue, TaskKind.WORKFLOW)).isEqualTo(1);
    PollWorkflowTaskQueueResponse next = pollWorkflowTask(queue, "worker-c").get(30, TimeUnit.SECONDS);
    assertThat(next.getHistory().getEventsList()).last()
        .satisfies(e -> assertThat(e.getWorkflowTaskStartedEventAttributes().getIdentity()).isEqualTo("worker-c"));

    assertThat(tasks("workflow", "started_in_write")).isEqualTo(1);
    assertThat(tasks("activity", "started_in_write")).isEqualTo(1);
    assertThat(tasks("workflow", "queued")).isEqualTo(1);
    assertThat(tasks("activity", "queued")).isZero();
  }

  private double tasks(String kind, String path) {
    return metrics.get("perdura.tasks").tag("kind", kind).tag("path", path).counter().count();
  }

  @Test
  void aPollWhoseTaskWasNotWrittenGoesOnWaiting() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    Future<PollWorkflowTaskQueueResponse> poll = pollWorkflowTask(queue, "worker-a");
    awaitWaitingPoll(queue, TaskKind.WORKFLOW);

    failNextCommit.set(true);
    assertThatThrownBy(() -> call(frontend::startWorkflowExecution, startRequest(NAMESPACE, queue, "wf-2")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

    awaitWaitingPoll(queue, TaskKind.WORKFLOW);
    assertThat(poll).isNotDone();
    call(frontend::startWorkflowExecution, startRequest(NAMESPACE, queue, "wf-2"));
    PollWorkflowTaskQueueResponse task = poll.get(30, TimeUnit.SECONDS);
    assertThat(task.getWorkflowExecution().getWorkflowId()).isEqualTo("wf-2");
    assertThat(task.getHistory().getEventsCount()).isEqualTo(3);
  }

  private void awaitWaitingPoll(String queue, TaskKind kind) {
    await().atMost(30, TimeUnit.SECONDS)
        .until(() -> matching.queue(NAMESPACE, queue, kind).waitingPollers() == 1);
  }

  private Future<PollWorkflowTaskQueueResponse> pollWorkflowTask(String queue, String identity) {
    return callers.submit(() -> call(frontend::pollWorkflowTaskQueue, PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setIdentity(identity)
        .build()));
  }

  private Future<PollActivityTaskQueueResponse> pollActivityTask(String queue, String identity) {
    return callers.submit(() -> call(frontend::pollActivityTaskQueue, PollActivityTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setIdentity(identity)
        .build()));
  }
}
