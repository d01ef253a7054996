package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Durations;
import com.google.protobuf.ByteString;
import io.temporal.api.command.v1.ScheduleActivityTaskCommandAttributes;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedResponse;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.command.v1.StartTimerCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.StickyExecutionAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.ResetStickyTaskQueueRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.ShutdownWorkerRequest;
import io.temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workflow task protocol at the wire, driven with raw requests: timeouts and attempts,
 * buffering of events that arrive while a task is in flight, unhandled commands, sticky queues,
 * and tasks and timers that survive a restart.
 */
class WorkflowTaskProtocolTest {
  @TempDir Path dir;
  private PerduraServer server;
  private ManagedChannel channel;
  private WorkflowServiceGrpc.WorkflowServiceBlockingStub stub;

  @BeforeEach
  void start() {
    startServer();
  }

  private void startServer() {
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
    channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    stub = WorkflowServiceGrpc.newBlockingStub(channel);
  }

  private void stopServer() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @AfterEach
  void stop() throws InterruptedException {
    stopServer();
  }

  private static StartWorkflowExecutionRequest.Builder startRequest(String queue, String workflowId,
      int taskTimeoutSeconds) {
    return StartWorkflowExecutionRequest.newBuilder()
        .setNamespace("default")
        .setWorkflowId(workflowId)
        .setWorkflowType(WorkflowType.newBuilder().setName("RawWorkflow"))
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setWorkflowTaskTimeout(Durations.fromSeconds(taskTimeoutSeconds))
        .setRequestId(UUID.randomUUID().toString());
  }

  private String startWorkflow(String queue, String workflowId, int taskTimeoutSeconds) {
    return stub.startWorkflowExecution(startRequest(queue, workflowId, taskTimeoutSeconds).build()).getRunId();
  }

  private PollWorkflowTaskQueueResponse poll(String queue) {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollWorkflowTaskQueue(PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace("default")
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setIdentity("raw-test")
        .build());
  }

  private List<HistoryEvent> history(String workflowId) {
    return stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
            .setNamespace("default")
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
            .build())
        .getHistory().getEventsList();
  }

  private static List<EventType> types(List<HistoryEvent> events) {
    return events.stream().map(HistoryEvent::getEventType).toList();
  }

  private void signal(String workflowId, String name) {
    stub.signalWorkflowExecution(SignalWorkflowExecutionRequest.newBuilder()
        .setNamespace("default")
        .setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
        .setSignalName(name)
        .setRequestId(UUID.randomUUID().toString())
        .build());
  }

  private static Command complete() {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
        .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.getDefaultInstance())
        .build();
  }

  private StartWorkflowExecutionResponse startEagerly(StartWorkflowExecutionRequest.Builder request) {
    return stub.startWorkflowExecution(request.setIdentity("eager-worker").setRequestEagerExecution(true).build());
  }

  private long backlog(String queue) {
    return stub.describeTaskQueue(DescribeTaskQueueRequest.newBuilder().setNamespace("default")
        .setTaskQueue(TaskQueue.newBuilder().setName(queue)).setReportStats(true).build())
        .getStats().getApproximateBacklogCount();
  }

  private io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse longPollHistory(String workflowId,
      boolean closeOnly, long fromEventId, int deadlineSeconds) {
    var request = GetWorkflowExecutionHistoryRequest.newBuilder()
        .setNamespace("default")
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
        .setWaitNewEvent(true);
    if (closeOnly) {
      request.setHistoryEventFilterType(io.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
    }
    if (fromEventId > 1) {
      String runId = stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
          .setNamespace("default").setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
          .setMaximumPageSize(1).build()).getHistory().getEvents(0)
          .getWorkflowExecutionStartedEventAttributes().getOriginalExecutionRunId();
      request.setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId).setRunId(runId))
          .setNextPageToken(ByteString.copyFrom(new dev.perdura.server.common.HistoryPageToken(runId, fromEventId, 0).encode()));
    }
    return stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).getWorkflowExecutionHistory(request.build());
  }

  @Test
  void historyLongPollsWaitForWhatTheyAskForAndEndWithATokenAtTheirDeadline() throws Exception {
    String queue = "long-poll-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);

    var nothingYet = longPollHistory(workflowId, true, 1, 2);
    assertThat(nothingYet.getHistory().getEventsList()).as("the run has not closed").isEmpty();
    assertThat(nothingYet.getNextPageToken()).isNotEmpty();

    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      var close = threads.submit(() -> longPollHistory(workflowId, true, 1, 30));
      var afterScheduled = threads.submit(() -> longPollHistory(workflowId, false, 3, 30));
      PollWorkflowTaskQueueResponse task = poll(queue);
      assertThat(types(afterScheduled.get(30, TimeUnit.SECONDS).getHistory().getEventsList()))
          .as("woken by the task's start").containsExactly(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      assertThat(close).as("the close reader sleeps through the task's start").isNotDone();

      stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
          .setNamespace("default").setTaskToken(task.getTaskToken()).addCommands(complete()).build());
      assertThat(types(close.get(30, TimeUnit.SECONDS).getHistory().getEventsList()))
          .containsExactly(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    }
    assertThat(types(longPollHistory(workflowId, true, 1, 30).getHistory().getEventsList()))
        .as("a closed run answers at once").containsExactly(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void aStartAskingForEagerExecutionGetsItsFirstWorkflowTaskInTheResponse() {
    String queue = "eager-start-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    StartWorkflowExecutionResponse started = startEagerly(startRequest(queue, workflowId, 10));

    assertThat(started.getStarted()).isTrue();
    PollWorkflowTaskQueueResponse task = started.getEagerWorkflowTask();
    assertThat(task.getTaskToken()).isNotEmpty();
    assertThat(task.getWorkflowExecution().getRunId()).isEqualTo(started.getRunId());
    assertThat(task.getWorkflowType().getName()).isEqualTo("RawWorkflow");
    assertThat(task.getStartedEventId()).isEqualTo(3);
    assertThat(types(task.getHistory().getEventsList())).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    assertThat(task.getHistory().getEvents(2).getWorkflowTaskStartedEventAttributes().getIdentity())
        .isEqualTo("eager-worker");
    assertThat(backlog(queue)).as("nothing queued for a poller").isZero();

    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(task.getTaskToken()).addCommands(complete()).build());
    assertThat(types(history(workflowId))).last().isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void anEagerTaskItsWorkerDropsTimesOutAndGoesToTheQueue() {
    String queue = "eager-lost-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    PollWorkflowTaskQueueResponse eager =
        startEagerly(startRequest(queue, workflowId, 1)).getEagerWorkflowTask();
    assertThat(eager.getAttempt()).isEqualTo(1);

    PollWorkflowTaskQueueResponse retried = poll(queue);
    assertThat(retried.getAttempt()).isEqualTo(2);
    assertThat(types(retried.getHistory().getEventsList())).contains(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  }

  @Test
  void noEagerTaskForADelayedStartOrAnExistingRun() {
    String queue = "eager-none-" + UUID.randomUUID();
    String delayedId = "wf-" + UUID.randomUUID();
    StartWorkflowExecutionResponse delayed =
        startEagerly(startRequest(queue, delayedId, 10).setWorkflowStartDelay(Durations.fromMillis(300)));
    assertThat(delayed.hasEagerWorkflowTask()).isFalse();
    assertThat(poll(queue).getWorkflowExecution().getWorkflowId()).isEqualTo(delayedId);

    String runningId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, runningId, 10);
    StartWorkflowExecutionResponse existing = startEagerly(startRequest(queue, runningId, 10)
        .setWorkflowIdConflictPolicy(io.temporal.api.enums.v1.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING));
    assertThat(existing.getStarted()).isFalse();
    assertThat(existing.hasEagerWorkflowTask()).isFalse();
  }

  @Test
  void aTimedOutTaskIsRetriedWithTheNextAttemptAndItsTokenGoesStale() {
    String queue = "timeout-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 1);

    PollWorkflowTaskQueueResponse first = poll(queue);
    assertThat(first.getAttempt()).isEqualTo(1);
    assertThat(first.getStartedEventId()).isEqualTo(3);
    assertThat(first.getHistory().getEventsList()).last()
        .extracting(HistoryEvent::getEventType).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);

    PollWorkflowTaskQueueResponse second = poll(queue);
    assertThat(second.getAttempt()).isEqualTo(2);
    assertThat(types(second.getHistory().getEventsList())).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);

    assertThatThrownBy(() -> stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace("default").setTaskToken(first.getTaskToken()).addCommands(complete()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(second.getTaskToken()).addCommands(complete()).build());
    assertThat(types(history(workflowId))).last().isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void aSignalDuringAStartedTaskIsBufferedUntilTheTaskCompletes() {
    String queue = "buffer-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    PollWorkflowTaskQueueResponse task = poll(queue);
    signal(workflowId, "during");
    assertThat(types(history(workflowId))).last().isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);

    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(task.getTaskToken()).build());
    List<HistoryEvent> events = history(workflowId);
    assertThat(types(events)).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).getEventId()).isEqualTo(i + 1);
    }
    PollWorkflowTaskQueueResponse next = poll(queue);
    assertThat(next.getPreviousStartedEventId()).isEqualTo(3);
    assertThat(next.getStartedEventId()).isEqualTo(7);
  }

  @Test
  void closingWhileASignalIsBufferedIsAnUnhandledCommand() {
    String queue = "unhandled-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    PollWorkflowTaskQueueResponse task = poll(queue);
    signal(workflowId, "late");

    assertThatThrownBy(() -> stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace("default").setTaskToken(task.getTaskToken()).addCommands(complete()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    List<HistoryEvent> events = history(workflowId);
    assertThat(types(events)).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    assertThat(events.get(3).getWorkflowTaskFailedEventAttributes().getCause())
        .isEqualTo(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
  }

  @Test
  void tasksAndTimersSurviveARestart() throws InterruptedException {
    String queue = "restart-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    PollWorkflowTaskQueueResponse task = poll(queue);
    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(task.getTaskToken())
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_START_TIMER)
            .setStartTimerCommandAttributes(StartTimerCommandAttributes.newBuilder()
                .setTimerId("t1").setStartToFireTimeout(Durations.fromSeconds(2))))
        .build());

    stopServer();
    startServer();

    PollWorkflowTaskQueueResponse afterTimer = poll(queue);
    assertThat(types(afterTimer.getHistory().getEventsList())).contains(
        EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_TIMER_FIRED);
    assertThat(afterTimer.getPreviousStartedEventId()).isEqualTo(3);
  }

  private void completeSticky(PollWorkflowTaskQueueResponse task, String stickyQueue, int scheduleToStartSeconds) {
    stub.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(task.getTaskToken())
        .setStickyAttributes(StickyExecutionAttributes.newBuilder()
            .setWorkerTaskQueue(TaskQueue.newBuilder().setName(stickyQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_STICKY))
            .setScheduleToStartTimeout(Durations.fromSeconds(scheduleToStartSeconds)))
        .build());
  }

  @Test
  void aStickyWorkerGetsTheNextTaskWithOnlyTheEventsItHasNotSeen() {
    String queue = "sticky-" + UUID.randomUUID();
    String stickyQueue = queue + "-worker-1";
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    completeSticky(poll(queue), stickyQueue, 30);

    signal(workflowId, "next");
    PollWorkflowTaskQueueResponse next = poll(stickyQueue);
    assertThat(next.getPreviousStartedEventId()).isEqualTo(3);
    assertThat(next.getHistory().getEventsList()).first()
        .extracting(HistoryEvent::getEventId).isEqualTo(4L);
    assertThat(types(next.getHistory().getEventsList())).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  }

  @Test
  void aStickyTaskNobodyPollsMovesToTheNormalQueueWithTheFullHistory() {
    String queue = "sticky-gone-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    completeSticky(poll(queue), queue + "-dead-worker", 1);

    signal(workflowId, "next");
    PollWorkflowTaskQueueResponse next = poll(queue);
    assertThat(next.getHistory().getEventsList()).first()
        .extracting(HistoryEvent::getEventId).isEqualTo(1L);
    List<HistoryEvent> events = next.getHistory().getEventsList();
    HistoryEvent timedOut = events.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).findFirst().orElseThrow();
    assertThat(timedOut.getWorkflowTaskTimedOutEventAttributes().getTimeoutType())
        .isEqualTo(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
    assertThat(types(events)).endsWith(
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  }

  @Test
  void resettingTheStickyQueueSendsTheNextTaskToTheNormalQueue() {
    String queue = "sticky-reset-" + UUID.randomUUID();
    String workflowId = "wf-" + UUID.randomUUID();
    String runId = startWorkflow(queue, workflowId, 10);
    completeSticky(poll(queue), queue + "-worker", 30);
    stub.resetStickyTaskQueue(ResetStickyTaskQueueRequest.newBuilder().setNamespace("default")
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId).setRunId(runId)).build());

    signal(workflowId, "next");
    PollWorkflowTaskQueueResponse next = poll(queue);
    assertThat(next.getHistory().getEventsList()).first()
        .extracting(HistoryEvent::getEventId).isEqualTo(1L);
    assertThat(types(next.getHistory().getEventsList())).doesNotContain(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  }

  @Test
  void shutdownWorkerEndsTheWorkersWaitingPollsAndMovesItsStickyTasks() throws Exception {
    String queue = "shutdown-" + UUID.randomUUID();
    String stickyQueue = queue + "-worker";
    String workflowId = "wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    completeSticky(poll(queue), stickyQueue, 60);
    signal(workflowId, "while-the-worker-leaves");

    // A poll of the leaving worker on an empty queue: without ShutdownWorker it would wait a minute.
    var leaving = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        stub.withDeadlineAfter(90, TimeUnit.SECONDS).pollActivityTaskQueue(PollActivityTaskQueueRequest.newBuilder()
            .setNamespace("default")
            .setTaskQueue(TaskQueue.newBuilder().setName(queue))
            .setIdentity("leaving")
            .setWorkerInstanceKey("instance-1")
            .build()));
    await().atMost(Duration.ofSeconds(10)).until(() -> stub.describeTaskQueue(DescribeTaskQueueRequest.newBuilder()
            .setNamespace("default").setTaskQueue(TaskQueue.newBuilder().setName(queue))
            .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY).build())
        .getPollersList().stream().anyMatch(p -> p.getIdentity().equals("leaving")));

    long before = System.nanoTime();
    stub.shutdownWorker(ShutdownWorkerRequest.newBuilder()
        .setNamespace("default").setIdentity("leaving").setWorkerInstanceKey("instance-1")
        .setTaskQueue(queue).setStickyTaskQueue(stickyQueue).build());
    assertThat(leaving.get(20, TimeUnit.SECONDS).getTaskToken()).isEmpty();

    // The sticky task went to the normal queue with the full history, long before its 60 s timeout.
    PollWorkflowTaskQueueResponse moved = poll(queue);
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(30));
    assertThat(moved.getHistory().getEventsList()).first()
        .extracting(HistoryEvent::getEventId).isEqualTo(1L);
    assertThat(types(moved.getHistory().getEventsList()))
        .contains(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  }

  private static Command scheduleActivity(String activityId, String queue, boolean eager) {
    return Command.newBuilder()
        .setCommandType(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
        .setScheduleActivityTaskCommandAttributes(ScheduleActivityTaskCommandAttributes.newBuilder()
            .setActivityId(activityId)
            .setActivityType(ActivityType.newBuilder().setName("RawActivity"))
            .setTaskQueue(TaskQueue.newBuilder().setName(queue))
            .setStartToCloseTimeout(Durations.fromSeconds(30))
            .setInput(Payloads.newBuilder().addPayloads(Payload.newBuilder().setData(ByteString.copyFromUtf8(activityId))))
            .setRequestEagerExecution(eager))
        .build();
  }

  @Test
  void anActivityRequestedEagerlyOnTheWorkflowsQueueComesBackInTheCompletionResponse() {
    String queue = "eager-" + UUID.randomUUID();
    String otherQueue = "eager-other-" + UUID.randomUUID();
    String workflowId = "eager-wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    PollWorkflowTaskQueueResponse task = poll(queue);

    RespondWorkflowTaskCompletedResponse response = stub.respondWorkflowTaskCompleted(
        RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace("default")
            .setTaskToken(task.getTaskToken())
            .setIdentity("eager-worker")
            .addCommands(scheduleActivity("a-eager", queue, true))
            .addCommands(scheduleActivity("a-queued", queue, false))
            .addCommands(scheduleActivity("a-elsewhere", otherQueue, true))
            .build());

    assertThat(response.getActivityTasksList()).hasSize(1);
    PollActivityTaskQueueResponse eager = response.getActivityTasks(0);
    assertThat(eager.getActivityId()).isEqualTo("a-eager");
    assertThat(eager.getAttempt()).isEqualTo(1);
    assertThat(eager.getInput().getPayloads(0).getData().toStringUtf8()).isEqualTo("a-eager");
    assertThat(eager.getWorkflowExecution().getWorkflowId()).isEqualTo(workflowId);

    // The other two went through their queues; the eager one is not in any queue.
    PollActivityTaskQueueResponse queued = stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollActivityTaskQueue(
        PollActivityTaskQueueRequest.newBuilder().setNamespace("default")
            .setTaskQueue(TaskQueue.newBuilder().setName(queue)).setIdentity("poller").build());
    assertThat(queued.getActivityId()).isEqualTo("a-queued");
    PollActivityTaskQueueResponse elsewhere = stub.withDeadlineAfter(30, TimeUnit.SECONDS).pollActivityTaskQueue(
        PollActivityTaskQueueRequest.newBuilder().setNamespace("default")
            .setTaskQueue(TaskQueue.newBuilder().setName(otherQueue)).setIdentity("poller").build());
    assertThat(elsewhere.getActivityId()).isEqualTo("a-elsewhere");

    stub.respondActivityTaskCompleted(RespondActivityTaskCompletedRequest.newBuilder()
        .setNamespace("default").setTaskToken(eager.getTaskToken()).setIdentity("eager-worker").build());
    PollWorkflowTaskQueueResponse next = poll(queue);
    List<HistoryEvent> events = next.getHistory().getEventsList();
    HistoryEvent started = events.stream()
        .filter(ev -> ev.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED).findFirst().orElseThrow();
    assertThat(started.getActivityTaskStartedEventAttributes().getIdentity()).isEqualTo("eager-worker");
    assertThat(types(events)).contains(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  }

  @Test
  void noActivityStartsEagerlyWhenTheCompletionClosesTheRun() {
    String queue = "eager-close-" + UUID.randomUUID();
    startWorkflow(queue, "eager-close-wf-" + UUID.randomUUID(), 10);
    PollWorkflowTaskQueueResponse task = poll(queue);

    RespondWorkflowTaskCompletedResponse response = stub.respondWorkflowTaskCompleted(
        RespondWorkflowTaskCompletedRequest.newBuilder()
            .setNamespace("default")
            .setTaskToken(task.getTaskToken())
            .setIdentity("eager-worker")
            .addCommands(scheduleActivity("a-eager", queue, true))
            .addCommands(complete())
            .build());

    assertThat(response.getActivityTasksList()).isEmpty();
  }

  @Test
  void aWorkflowTaskLongerThanOnePageComesWithATokenForTheRestUpToItsStartedEvent() {
    String queue = "paged-" + UUID.randomUUID();
    String workflowId = "paged-wf-" + UUID.randomUUID();
    startWorkflow(queue, workflowId, 10);
    for (int i = 0; i < 1200; i++) {
      signal(workflowId, "s" + i);
    }

    PollWorkflowTaskQueueResponse task = poll(queue);
    // Arrives after the task started: buffered, not part of this task's history.
    signal(workflowId, "late");

    assertThat(task.getHistory().getEventsCount()).isEqualTo(1000);
    assertThat(task.getNextPageToken()).isNotEmpty();
    var rest = stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
        .setNamespace("default")
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
        .setNextPageToken(task.getNextPageToken())
        .build());
    List<HistoryEvent> events = rest.getHistory().getEventsList();
    assertThat(events.getFirst().getEventId()).isEqualTo(1001);
    assertThat(events.getLast().getEventId()).isEqualTo(task.getStartedEventId());
    assertThat(events.getLast().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    assertThat(rest.getNextPageToken()).isEmpty();
  }
}
