package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionRow;
import io.temporal.api.common.v1.Memo;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.common.v1.SearchAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.enums.v1.PendingWorkflowTaskState;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflow.v1.PendingWorkflowTaskInfo;
import io.temporal.api.workflow.v1.WorkflowExecutionConfig;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;

/** Builds what DescribeWorkflowExecution and the visibility APIs report about runs. */
public final class Describe {
  private Describe() {}

  static DescribeWorkflowExecutionResponse describe(Execution e) {
    ExecutionState s = e.state;
    DescribeWorkflowExecutionResponse.Builder response =
        DescribeWorkflowExecutionResponse.newBuilder()
            .setExecutionConfig(
                WorkflowExecutionConfig.newBuilder()
                    .setTaskQueue(TaskQueue.newBuilder().setName(s.taskQueue).setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
                    .setWorkflowExecutionTimeout(Protos.duration(s.executionTimeoutMillis))
                    .setWorkflowRunTimeout(Protos.duration(s.runTimeoutMillis))
                    .setDefaultWorkflowTaskTimeout(Protos.duration(s.workflowTaskTimeoutMillis)))
            .setWorkflowExecutionInfo(info(s));
    for (ActivityInfo a : s.activities.values()) {
      response.addPendingActivities(pendingActivity(a));
    }
    for (ExecutionState.ChildInfo child : s.children.values()) {
      io.temporal.api.workflow.v1.PendingChildExecutionInfo.Builder pending =
          io.temporal.api.workflow.v1.PendingChildExecutionInfo.newBuilder()
              .setWorkflowId(child.workflowId)
              .setRunId(child.runId)
              .setWorkflowTypeName(child.workflowType)
              .setInitiatedId(child.initiatedEventId)
              .setParentClosePolicy(Children.policy(child));
      response.addPendingChildren(pending);
    }
    if (s.workflowTask != null) {
      ExecutionState.WorkflowTaskInfo wft = s.workflowTask;
      PendingWorkflowTaskInfo.Builder task =
          PendingWorkflowTaskInfo.newBuilder()
              .setState(wft.started
                  ? PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
                  : PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED)
              .setScheduledTime(Protos.timestamp(wft.scheduledTime))
              .setOriginalScheduledTime(Protos.timestamp(wft.scheduledTime))
              .setAttempt(wft.attempt);
      if (wft.started) {
        task.setStartedTime(Protos.timestamp(wft.startedTime));
      }
      response.setPendingWorkflowTask(task);
    }
    return response.build();
  }

  private static PendingActivityInfo pendingActivity(ActivityInfo a) {
    PendingActivityState state;
    if (a.paused) {
      state = a.started ? PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED : PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED;
    } else if (a.cancelRequested) {
      state = PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
    } else if (a.started) {
      state = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
    } else {
      state = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
    }
    RetryPolicy retry = Protos.parse(RetryPolicy.parser(), a.retryPolicy, RetryPolicy.getDefaultInstance());
    PendingActivityInfo.Builder info =
        PendingActivityInfo.newBuilder()
            .setActivityId(a.activityId)
            .setActivityType(io.temporal.api.common.v1.ActivityType.newBuilder().setName(a.activityType))
            .setState(state)
            .setAttempt(a.attempt)
            .setMaximumAttempts(retry.getMaximumAttempts())
            .setScheduledTime(Protos.timestamp(a.scheduledTime))
            .setLastWorkerIdentity(a.startedIdentity)
            .setPaused(a.paused)
            .setPriority(Protos.priority(a.priority));
    if (a.expirationTime() > 0) {
      info.setExpirationTime(Protos.timestamp(a.expirationTime()));
    }
    if (a.started) {
      info.setLastStartedTime(Protos.timestamp(a.startedTime));
    }
    if (a.lastHeartbeatTime > 0) {
      info.setLastHeartbeatTime(Protos.timestamp(a.lastHeartbeatTime));
    }
    if (a.heartbeatDetails != null) {
      info.setHeartbeatDetails(Protos.parse(Payloads.parser(), a.heartbeatDetails, Payloads.getDefaultInstance()));
    }
    if (a.lastFailure != null) {
      info.setLastFailure(Protos.parse(Failure.parser(), a.lastFailure, Failure.getDefaultInstance()));
    }
    if (a.waitingForRetry) {
      info.setNextAttemptScheduleTime(Protos.timestamp(a.scheduledTime));
    }
    if (a.lastAttemptCompleteTime > 0) {
      info.setLastAttemptCompleteTime(Protos.timestamp(a.lastAttemptCompleteTime));
    }
    return info.build();
  }

  static WorkflowExecutionInfo info(ExecutionState s) {
    WorkflowExecutionInfo.Builder info =
        WorkflowExecutionInfo.newBuilder()
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(s.workflowId).setRunId(s.runId))
            .setType(WorkflowType.newBuilder().setName(s.workflowType))
            .setStartTime(Protos.timestamp(s.startTime))
            .setExecutionTime(Protos.timestamp(s.executionTime))
            .setStatus(WorkflowExecutionStatus.forNumber(s.status))
            .setHistoryLength(s.nextEventId - 1)
            .setHistorySizeBytes(s.historySizeBytes)
            .setTaskQueue(s.taskQueue)
            .setFirstRunId(s.firstRunId)
            .setPriority(Protos.priority(s.priority));
    if (s.parentWorkflowId != null) {
      info.setParentNamespaceId(java.util.UUID.nameUUIDFromBytes(
              s.parentNamespace.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString())
          .setParentExecution(WorkflowExecution.newBuilder().setWorkflowId(s.parentWorkflowId).setRunId(s.parentRunId));
    }
    if (s.closeTime > 0) {
      info.setCloseTime(Protos.timestamp(s.closeTime));
      info.setExecutionDuration(Protos.duration(s.closeTime - s.executionTime));
    }
    if (s.memo != null) {
      info.setMemo(Protos.parse(Memo.parser(), s.memo, Memo.getDefaultInstance()));
    }
    if (s.searchAttributes != null) {
      info.setSearchAttributes(Protos.parse(SearchAttributes.parser(), s.searchAttributes, SearchAttributes.getDefaultInstance()));
    }
    return info.build();
  }

  /** The visibility record of a stored run, for List. */
  public static WorkflowExecutionInfo info(ExecutionRow row) {
    return info(StateCodec.decode(row.state()));
  }
}
