package dev.perdura.server.frontend;

import static dev.perdura.server.frontend.FrontendOverStore.startRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.matching.TaskQueueDispatcher;
import dev.perdura.server.store.TaskKind;
import io.grpc.Context;
import io.temporal.api.command.v1.Command;
import io.temporal.api.command.v1.CompleteWorkflowExecutionCommandAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.HistoryEventFilterType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedResponse;
import java.util.concurrent.ScheduledExecutorService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A call whose one wait is its change is not given a thread: the thread that received it queues
 * the change and returns, and the answer is sent from the shard's writer thread once the change is
 * durable. A poll that finds a task waiting in its queue goes the same way, and a wait for a run's
 * close never holds a thread.
 */
class CallsWithoutAThreadTest {
  private static final String NAMESPACE = "default";

  /** Commits wait for a permit while {@link #gated}; each commit's number of changes is kept. */
  private final Semaphore commitPermits = new Semaphore(0);
  private final AtomicBoolean gated = new AtomicBoolean();
  private final Queue<Integer> batchSizes = new ConcurrentLinkedQueue<>();
  /** The virtual threads the frontend started for its calls. */
  private final Queue<Thread> callThreads = new ConcurrentLinkedQueue<>();
  private final ExecutorService calls = Executors.newThreadPerTaskExecutor(recording(Thread.ofVirtual().factory()));
  private FrontendOverStore engine;
  private WorkflowServiceFrontend frontend;

  private ThreadFactory recording(ThreadFactory factory) {
    return task -> {
      Thread thread = factory.newThread(task);
      callThreads.add(thread);
      return thread;
    };
  }

  @BeforeEach
  void start() {
    engine = new FrontendOverStore(NAMESPACE, new SimpleMeterRegistry(), calls, writes -> {
      batchSizes.add(writes.size());
      if (gated.get() && !commitPermits.tryAcquire(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never let this commit through");
      }
    });
    frontend = engine.frontend;
  }

  @AfterEach
  void stop() {
    gated.set(false);
    commitPermits.release(1000);
    calls.shutdownNow();
    engine.close();
  }

  @Test
  void aCallIsAnsweredByTheThreadThatFinishedItsChangeAndNoneWaitsForIt() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    startWorkflows(queue, 2);
    int threadsBefore = callThreads.size();

    gated.set(true);
    Answer<StartWorkflowExecutionResponse> answer = new Answer<>();
    frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, "under-load"), answer);

    // The call returned while its change still waits to be committed: nothing waits for it.
    await().atMost(30, TimeUnit.SECONDS).until(() -> commitPermits.hasQueuedThreads());
    assertThat(answer.value).isNotDone();
    assertThat(callThreads).as("no thread was started for the call").hasSize(threadsBefore);

    commitPermits.release();
    StartWorkflowExecutionResponse response = answer.value.get(30, TimeUnit.SECONDS);
    assertThat(response.getRunId()).isNotEmpty();
    assertThat(answer.thread.isVirtual()).isFalse();
    assertThat(answer.thread.getName()).as("answered by the shard's writer").startsWith("history-shard-");
    assertThat(batchSizes).last().isEqualTo(1);

    // After a batch of one change the next call goes the same way.
    gated.set(false);
    Answer<StartWorkflowExecutionResponse> next = new Answer<>();
    frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, "after-one"), next);
    assertThat(next.value.get(30, TimeUnit.SECONDS).getRunId()).isNotEmpty();
    assertThat(next.thread.isVirtual()).isFalse();
    assertThat(callThreads).hasSize(threadsBefore);
  }

  @Test
  void aFailedChangeIsAnsweredWithItsStatusAndABadRequestWhereItArrived() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    startWorkflows(queue, 1);

    Answer<StartWorkflowExecutionResponse> duplicate = new Answer<>();
    frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, "gathered-0"), duplicate);
    assertThat(duplicate.value).failsWithin(30, TimeUnit.SECONDS).withThrowableThat()
        .havingCause()
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
    assertThat(duplicate.thread.isVirtual()).isFalse();

    Answer<Object> badToken = new Answer<>();
    frontend.respondActivityTaskCompleted(RespondActivityTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(com.google.protobuf.ByteString.copyFromUtf8("not a token"))
        .build(), cast(badToken));
    assertThat(badToken.value).failsWithin(30, TimeUnit.SECONDS).withThrowableThat()
        .havingCause()
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("task_token");
        });
    assertThat(badToken.thread).as("rejected where it arrived").isEqualTo(Thread.currentThread());
  }

  @Test
  void aPollThatFindsATaskWaitingTakesNoThreadAndTheShardAnswersIt() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    startWorkflows(queue, 5);
    TaskQueueDispatcher dispatcher = engine.matching.queue(NAMESPACE, queue, TaskKind.WORKFLOW);
    assertThat(dispatcher.backlogSize()).as("the five workflows' first tasks").isEqualTo(5);
    int threadsBefore = callThreads.size();

    Answer<PollWorkflowTaskQueueResponse> poll = new Answer<>();
    frontend.pollWorkflowTaskQueue(pollRequest(queue), poll);

    PollWorkflowTaskQueueResponse task = poll.value.get(30, TimeUnit.SECONDS);
    assertThat(task.getTaskToken()).isNotEmpty();
    assertThat(task.getHistory().getEventsList()).extracting(HistoryEvent::getEventType).containsExactly(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    assertThat(task.getHistory().getEvents(2).getWorkflowTaskStartedEventAttributes().getIdentity())
        .isEqualTo("poller");
    // Answered by the shard's writer, or by the polling thread itself when the writer had computed
    // the start before that thread looked: never by a thread of the poll's own.
    assertThat(poll.thread.isVirtual()).isFalse();
    assertThat(callThreads).as("no thread was started for the poll").hasSize(threadsBefore);
    assertThat(dispatcher.backlogSize()).isEqualTo(4);
  }

  @Test
  void aPollThatWaitsHoldsNoThreadEndsAtItsDeadlineAndOneWhoseCallerLeftTakesNoTask() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    TaskQueueDispatcher dispatcher = engine.matching.queue(NAMESPACE, queue, TaskKind.WORKFLOW);
    ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor();
    try {
      // Nothing to take: it waits a second less than its call's deadline, then answers empty.
      Answer<PollWorkflowTaskQueueResponse> shortPoll = new Answer<>();
      Context.current().withDeadlineAfter(1500, TimeUnit.MILLISECONDS, deadlines)
          .run(() -> frontend.pollWorkflowTaskQueue(pollRequest(queue), shortPoll));
      assertThat(shortPoll.value.get(30, TimeUnit.SECONDS).getTaskToken()).isEmpty();

      // A caller that leaves withdraws its poll: the next task goes to the backlog, not to it.
      Answer<PollWorkflowTaskQueueResponse> left = new Answer<>();
      Context.CancellableContext leaving = Context.current().withCancellation();
      leaving.run(() -> frontend.pollWorkflowTaskQueue(pollRequest(queue), left));
      // The short poll leaves the waiting set just after its answer.
      await().atMost(30, TimeUnit.SECONDS).until(() -> dispatcher.waitingPollers() == 1);
      leaving.cancel(null);
      assertThat(dispatcher.waitingPollers()).isZero();

      int threadsBefore = callThreads.size();
      Answer<PollWorkflowTaskQueueResponse> waiting = new Answer<>();
      frontend.pollWorkflowTaskQueue(pollRequest(queue), waiting);
      assertThat(dispatcher.waitingPollers()).isEqualTo(1);
      assertThat(callThreads).as("the waiting poll holds no thread").hasSize(threadsBefore);
      Answer<StartWorkflowExecutionResponse> started = new Answer<>();
      frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, "polled"), started);
      PollWorkflowTaskQueueResponse task = waiting.value.get(30, TimeUnit.SECONDS);
      assertThat(task.getWorkflowExecution().getRunId()).isEqualTo(started.value.get(30, TimeUnit.SECONDS).getRunId());
      assertThat(task.getHistory().getEventsList()).extracting(HistoryEvent::getEventType).containsExactly(
          EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
          EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      assertThat(left.value.get(30, TimeUnit.SECONDS).getTaskToken()).as("a caller that left got no task").isEmpty();
      assertThat(dispatcher.backlogSize()).isZero();
    } finally {
      deadlines.shutdownNow();
    }
  }

  @Test
  void aWaitForARunsCloseHoldsNoThreadAndIsAnsweredWithTheCloseEventByWhoeverWroteIt() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    startWorkflow(queue, "awaited");
    int threadsBefore = callThreads.size();

    Answer<GetWorkflowExecutionHistoryResponse> outcome = new Answer<>();
    frontend.getWorkflowExecutionHistory(closeWait("awaited"), outcome);
    assertThat(callThreads).as("the wait holds no thread").hasSize(threadsBefore);
    assertThat(engine.history.runsWaitedOn()).isEqualTo(1);
    assertThat(outcome.value).isNotDone();

    Answer<RespondWorkflowTaskCompletedResponse> completed = completeWorkflow(queue);

    GetWorkflowExecutionHistoryResponse answer = outcome.value.get(30, TimeUnit.SECONDS);
    assertThat(answer.getHistory().getEventsList()).singleElement().extracting(HistoryEvent::getEventType)
        .isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    // Answered by the thread that wrote the close: the completion's own (which led its change), or the
    // shard's writer.
    assertThat(outcome.thread).satisfiesAnyOf(
        thread -> assertThat(thread).isSameAs(completed.thread),
        thread -> assertThat(thread.getName()).startsWith("history-shard-"));
    assertThat(engine.history.runsWaitedOn()).isZero();
  }

  @Test
  void aWaitForARunsCloseEndsAtItsDeadlineWithATokenAndOneWhoseCallerLeftIsForgotten() throws Exception {
    String queue = "q-" + UUID.randomUUID();
    startWorkflow(queue, "waited-out");
    ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor();
    try {
      // The wait ends a second before the call's deadline, with a token to come back with.
      Answer<GetWorkflowExecutionHistoryResponse> shortWait = new Answer<>();
      Context.current().withDeadlineAfter(1500, TimeUnit.MILLISECONDS, deadlines)
          .run(() -> frontend.getWorkflowExecutionHistory(closeWait("waited-out"), shortWait));
      GetWorkflowExecutionHistoryResponse noClose = shortWait.value.get(30, TimeUnit.SECONDS);
      assertThat(noClose.getHistory().getEventsCount()).isZero();
      assertThat(noClose.getNextPageToken()).isNotEmpty();

      Answer<GetWorkflowExecutionHistoryResponse> left = new Answer<>();
      Context.CancellableContext leaving = Context.current().withCancellation();
      leaving.run(() -> frontend.getWorkflowExecutionHistory(closeWait("waited-out"), left));
      assertThat(engine.history.runsWaitedOn()).isEqualTo(1);
      leaving.cancel(null);
      assertThat(engine.history.runsWaitedOn()).as("unregistered when its caller left").isZero();

      completeWorkflow(queue).value.get(30, TimeUnit.SECONDS);
      Answer<GetWorkflowExecutionHistoryResponse> after = new Answer<>();
      frontend.getWorkflowExecutionHistory(closeWait("waited-out"), after);
      assertThat(after.value.get(30, TimeUnit.SECONDS).getHistory().getEventsList()).singleElement()
          .extracting(HistoryEvent::getEventType).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
      assertThat(left.value).as("a caller that left is not answered").isNotDone();
    } finally {
      deadlines.shutdownNow();
    }
  }

  private StartWorkflowExecutionResponse startWorkflow(String queue, String workflowId) throws Exception {
    Answer<StartWorkflowExecutionResponse> started = new Answer<>();
    frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, workflowId), started);
    return started.value.get(30, TimeUnit.SECONDS);
  }

  /** Polls the queue's workflow task and completes it with the workflow; the completion's answer. */
  private Answer<RespondWorkflowTaskCompletedResponse> completeWorkflow(String queue) throws Exception {
    Answer<PollWorkflowTaskQueueResponse> poll = new Answer<>();
    frontend.pollWorkflowTaskQueue(pollRequest(queue), poll);
    Answer<RespondWorkflowTaskCompletedResponse> completed = new Answer<>();
    frontend.respondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskToken(poll.value.get(30, TimeUnit.SECONDS).getTaskToken())
        .addCommands(Command.newBuilder()
            .setCommandType(CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
            .setCompleteWorkflowExecutionCommandAttributes(CompleteWorkflowExecutionCommandAttributes.getDefaultInstance()))
        .build(), completed);
    completed.value.get(30, TimeUnit.SECONDS);
    return completed;
  }

  private static PollWorkflowTaskQueueRequest pollRequest(String queue) {
    return PollWorkflowTaskQueueRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setIdentity("poller")
        .build();
  }

  /** How the official SDKs wait for a workflow's result: its close event, waiting, no run id. */
  private static GetWorkflowExecutionHistoryRequest closeWait(String workflowId) {
    return GetWorkflowExecutionHistoryRequest.newBuilder()
        .setNamespace(NAMESPACE)
        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
        .setWaitNewEvent(true)
        .setHistoryEventFilterType(HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
        .build();
  }

  /**
   * Starts workflows "gathered-0".. on the queue; none is given a thread (each is answered by the
   * shard's writer, or by the calling thread when the change was written before it looked).
   */
  private void startWorkflows(String queue, int count) throws Exception {
    int threadsBefore = callThreads.size();
    for (int i = 0; i < count; i++) {
      Answer<StartWorkflowExecutionResponse> started = new Answer<>();
      frontend.startWorkflowExecution(startRequest(NAMESPACE, queue, "gathered-" + i), started);
      assertThat(started.value.get(30, TimeUnit.SECONDS).getRunId()).isNotEmpty();
      assertThat(started.thread.isVirtual()).isFalse();
    }
    assertThat(callThreads).hasSize(threadsBefore);
  }

  @SuppressWarnings("unchecked")
  private static <T> StreamObserver<T> cast(Answer<?> answer) {
    return (StreamObserver<T>) answer;
  }

  /** A call's one answer and the thread that gave it. */
  private static final class Answer<T> implements StreamObserver<T> {
    final CompletableFuture<T> value = new CompletableFuture<>();
    volatile Thread thread;

    @Override
    public void onNext(T response) {
      thread = Thread.currentThread();
      value.complete(DirectCalls.asReceived(response));
    }

    @Override
    public void onError(Throwable t) {
      thread = Thread.currentThread();
      value.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }
}
