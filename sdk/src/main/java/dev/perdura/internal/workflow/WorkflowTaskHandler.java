package dev.perdura.internal.workflow;

import dev.perdura.client.PerduraClient;
import dev.perdura.internal.failure.Failures;
import dev.perdura.internal.grpc.ServiceConnection;
import dev.perdura.workflow.WorkflowInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.command.v1.Command;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskFailedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one workflow task: takes the run from the cache when it holds the run up to the task's
 * first new event (else rebuilds it from the whole history), applies the new events, and responds
 * with the new commands, or fails the task (non-determinism, a bug in workflow code) so the server
 * retries it. A run that stays open goes back into the cache, and its next tasks come to this
 * worker's sticky queue.
 */
public final class WorkflowTaskHandler {
  private static final Logger log = LoggerFactory.getLogger(WorkflowTaskHandler.class);

  private final PerduraClient client;
  private final ServiceConnection connection;
  private final WorkflowRegistry registry;
  private final String taskQueue;
  private final String stickyQueue;
  private final WorkflowCache cache;
  private final LocalActivities locals;
  private final EagerActivities eager;
  /** Activities one completion asks to start eagerly, at most (the server's own limit is 8). */
  private static final int MAX_EAGER_ACTIVITIES = 8;
  /**
   * How long a task waits for its run's previous task to finish on this worker (it takes
   * milliseconds; long work such as local activities goes on beside the task, not in it).
   */
  private static final java.time.Duration BUSY_RUN_WAIT = java.time.Duration.ofSeconds(10);

  /**
   * @param stickyQueue this worker's own queue, where the server sends the tasks of cached runs; null to
   *     cache nothing
   */
  public WorkflowTaskHandler(PerduraClient client, ServiceConnection connection, WorkflowRegistry registry,
      String taskQueue, String stickyQueue, int cacheSize, LocalActivities locals, EagerActivities eager) {
    this.locals = locals;
    this.eager = eager;
    this.client = client;
    this.connection = connection;
    this.registry = registry;
    this.taskQueue = taskQueue;
    this.stickyQueue = cacheSize > 0 ? stickyQueue : null;
    this.cache = new WorkflowCache(Math.max(cacheSize, 1));
  }

  /** Releases every cached run (at worker shutdown). */
  public void closeCache() {
    cache.clear().forEach(WorkflowRun::close);
  }

  /**
   * Answers the task; returns the activities the server started in its response for slots this
   * worker reserved ({@link EagerActivities}): the caller runs them, each in the slot reserved for it.
   */
  public List<PollActivityTaskQueueResponse> handle(PollWorkflowTaskQueueResponse task) {
    String workflowId = task.getWorkflowExecution().getWorkflowId();
    String runId = task.getWorkflowExecution().getRunId();
    String type = task.getWorkflowType().getName();
    Optional<WorkflowDefinition> definition = registry.lookup(type);
    if (definition.isEmpty()) {
      fail(task, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
          new IllegalStateException("workflow type '" + type + "' is not registered on this worker; registered: "
              + registry.names()));
      return List.of();
    }
    WorkflowInfo info = new WorkflowInfo(client.namespace(), workflowId, runId, type, taskQueue, task.getAttempt());
    if (task.hasQuery()) {
      WorkflowRun run = new WorkflowRun(definition.get(), client.payloadConverter());
      try {
        run.replayAll(fullHistory(task), info);
        answerQueryTask(task, run);
      } catch (RuntimeException e) {
        log.warn("workflow {} ({}) run {}: could not answer query: {}", workflowId, type, runId, e.toString());
      } finally {
        run.close();
      }
      return List.of();
    }
    WorkflowRun run = null;
    boolean keep = false;
    boolean taken = false;
    // Activity slots held for eager starts; those no task came back for are given back at the end.
    int reserved = 0;
    List<PollActivityTaskQueueResponse> started = List.of();
    try {
      List<HistoryEvent> events = pages(task);
      long firstEventId = events.isEmpty() ? 0 : events.getFirst().getEventId();
      WorkflowCache.Entry cached = cache.take(runId, BUSY_RUN_WAIT);
      taken = true;
      if (cached != null && firstEventId > 1 && cached.lastEventId() + 1 == firstEventId) {
        run = cached.run();
      } else {
        if (cached != null) {
          cached.run().close();
        }
        run = new WorkflowRun(definition.get(), client.payloadConverter());
        run.useLocalActivities(locals);
        if (firstEventId != 1) {
          // A partial history for a run this worker no longer has: start over from the first event.
          events = wholeHistory(task);
        }
      }
      run.keepAliveAcrossTasks(stickyQueue != null);
      List<Command> commands = run.replay(events, task.getStartedEventId(), info);
      boolean closes = commands.stream().anyMatch(WorkflowTaskHandler::closesRun);
      List<Command> sent = new java.util.ArrayList<>(commands.size());
      for (Command command : commands) {
        Command toSend = closes || reserved >= MAX_EAGER_ACTIVITIES ? command : withEagerRequest(command);
        if (toSend != command) {
          reserved++;
        }
        sent.add(toSend);
      }
      RespondWorkflowTaskCompletedRequest.Builder response = RespondWorkflowTaskCompletedRequest.newBuilder()
          .setNamespace(client.namespace())
          .setTaskToken(task.getTaskToken())
          .addAllCommands(sent)
          .setForceCreateNewWorkflowTask(run.needsNewTask())
          .setIdentity(client.options().identity());
      if (stickyQueue != null && !closes) {
        response.setStickyAttributes(io.temporal.api.taskqueue.v1.StickyExecutionAttributes.newBuilder()
            .setWorkerTaskQueue(io.temporal.api.taskqueue.v1.TaskQueue.newBuilder()
                .setName(stickyQueue)
                .setKind(io.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY)
                .setNormalName(taskQueue))
            .setScheduleToStartTimeout(dev.perdura.internal.Protos.toProto(STICKY_SCHEDULE_TO_START)));
      }
      for (var query : task.getQueriesMap().entrySet()) {
        response.putQueryResults(query.getKey(), answer(run, query.getValue()));
      }
      var completed = connection.call().respondWorkflowTaskCompleted(response.build());
      // Back into the cache before the caller runs an eager activity: its completion makes the
      // run's next task, which must find the run here or it is replayed from its first event.
      keep = stickyQueue != null && !closes;
      if (keep) {
        cache.put(runId, run, task.getStartedEventId()).forEach(WorkflowRun::close);
      }
      started = completed.getActivityTasksList();
      reserved -= started.size();
    } catch (NonDeterminismException e) {
      log.error("workflow {} ({}) run {}: non-deterministic: {}", workflowId, type, runId, e.getMessage());
      fail(task, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR, e);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        log.info("workflow {} ({}) run {}: the task is gone (timed out or the run closed)", workflowId, type, runId);
      } else {
        log.warn("workflow {} ({}) run {}: could not answer the workflow task: {}", workflowId, type, runId,
            e.getStatus());
      }
    } catch (RuntimeException e) {
      log.error("workflow {} ({}) run {}: workflow code failed; the task is retried", workflowId, type, runId, e);
      fail(task, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.info("workflow {} ({}) run {}: interrupted while its previous task was still being handled", workflowId,
          type, runId);
    } finally {
      if (reserved > 0) {
        eager.release(reserved);
      }
      if (!keep) {
        if (run != null) {
          run.close();
        }
        if (taken) {
          cache.release(runId);
        }
      }
    }
    return started;
  }

  /**
   * The command with {@code request_eager_execution} when it schedules an activity on this worker's
   * own queue and a slot is reserved for it here; else the command as it was.
   */
  private Command withEagerRequest(Command command) {
    if (command.getCommandType() != io.temporal.api.enums.v1.CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK) {
      return command;
    }
    var attributes = command.getScheduleActivityTaskCommandAttributes();
    if (!attributes.getTaskQueue().getName().equals(taskQueue)
        || !eager.tryReserve(attributes.getActivityType().getName())) {
      return command;
    }
    return command.toBuilder()
        .setScheduleActivityTaskCommandAttributes(attributes.toBuilder().setRequestEagerExecution(true))
        .build();
  }

  /** The server keeps a task on the sticky queue this long before giving it to any worker. */
  private static final java.time.Duration STICKY_SCHEDULE_TO_START = java.time.Duration.ofSeconds(5);

  private static boolean closesRun(Command command) {
    return switch (command.getCommandType()) {
      case COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
          COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION -> true;
      default -> false;
    };
  }

  /** The whole history from the first event up to the task's started event, read from the server. */
  private List<HistoryEvent> wholeHistory(PollWorkflowTaskQueueResponse task) {
    List<HistoryEvent> events = new ArrayList<>();
    com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
    do {
      var page = connection.call().getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
          .setNamespace(client.namespace())
          .setExecution(task.getWorkflowExecution())
          .setNextPageToken(token)
          .build());
      for (HistoryEvent event : page.getHistory().getEventsList()) {
        if (event.getEventId() <= task.getStartedEventId()) {
          events.add(event);
        }
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return events;
  }

  private static io.temporal.api.query.v1.WorkflowQueryResult answer(WorkflowRun run,
      io.temporal.api.query.v1.WorkflowQuery query) {
    var result = io.temporal.api.query.v1.WorkflowQueryResult.newBuilder();
    try {
      result.setResultType(io.temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED)
          .setAnswer(run.query(query.getQueryType(), query.getQueryArgs()));
    } catch (RuntimeException e) {
      result.setResultType(io.temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_FAILED)
          .setErrorMessage(String.valueOf(e.getMessage()));
    }
    return result.build();
  }

  private void answerQueryTask(PollWorkflowTaskQueueResponse task, WorkflowRun run) {
    var answer = answer(run, task.getQuery());
    var request = io.temporal.api.workflowservice.v1.RespondQueryTaskCompletedRequest.newBuilder()
        .setNamespace(client.namespace())
        .setTaskToken(task.getTaskToken());
    if (answer.getResultType() == io.temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED) {
      request.setCompletedType(io.temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED)
          .setQueryResult(answer.getAnswer());
    } else {
      request.setCompletedType(io.temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_FAILED)
          .setErrorMessage(answer.getErrorMessage());
    }
    connection.call().respondQueryTaskCompleted(request.build());
  }

  private List<HistoryEvent> fullHistory(PollWorkflowTaskQueueResponse task) {
    return pages(task);
  }

  /** The task's history with the pages the server did not put in the poll response. */
  private List<HistoryEvent> pages(PollWorkflowTaskQueueResponse task) {
    List<HistoryEvent> events = new ArrayList<>(task.getHistory().getEventsList());
    var token = task.getNextPageToken();
    while (!token.isEmpty()) {
      var page = connection.call().getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
          .setNamespace(client.namespace())
          .setExecution(task.getWorkflowExecution())
          .setNextPageToken(token)
          .build());
      events.addAll(page.getHistory().getEventsList());
      token = page.getNextPageToken();
    }
    return events;
  }

  private void fail(PollWorkflowTaskQueueResponse task, WorkflowTaskFailedCause cause, Throwable error) {
    if (task.getAttempt() > 1) {
      // The first failure is on record. Staying silent lets the task time out, so a failing workflow is
      // retried at the pace of its task timeout instead of in a tight loop.
      log.info("workflow {}: attempt {} of the workflow task failed again; letting it time out",
          task.getWorkflowExecution().getWorkflowId(), task.getAttempt());
      return;
    }
    try {
      connection.call().respondWorkflowTaskFailed(RespondWorkflowTaskFailedRequest.newBuilder()
          .setNamespace(client.namespace())
          .setTaskToken(task.getTaskToken())
          .setCause(cause)
          .setFailure(Failures.toProto(error, client.payloadConverter()))
          .setIdentity(client.options().identity())
          .build());
    } catch (StatusRuntimeException e) {
      log.warn("workflow {}: could not report the failed workflow task: {}", task.getWorkflowExecution().getWorkflowId(),
          e.getStatus());
    }
  }
}
