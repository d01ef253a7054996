package dev.perdura.client;

import com.google.protobuf.ByteString;
import dev.perdura.internal.Protos;
import dev.perdura.internal.failure.Failures;
import dev.perdura.internal.grpc.Calls;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatByIdRequest;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledByIdRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedByIdRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedByIdRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedRequest;
import java.util.Arrays;

/**
 * Finishes an activity from outside the worker that started it: the other half of
 * {@code Activity.completeAsync()}. Named by the task token the activity saw, or by workflow id,
 * run id and activity id.
 *
 * <pre>{@code
 * client.activityHandle(taskToken).complete("shipped");
 * }</pre>
 *
 * Every method throws {@link ActivityNotFoundException} when the activity no longer waits for this
 * (it already finished, timed out, or was retried): a completion is never applied twice.
 */
public final class ActivityCompletionHandle {
  private final PerduraClient client;
  private final byte[] taskToken;
  private final String workflowId;
  private final String runId;
  private final String activityId;

  ActivityCompletionHandle(PerduraClient client, byte[] taskToken, String workflowId, String runId, String activityId) {
    this.client = client;
    this.taskToken = taskToken;
    this.workflowId = workflowId;
    this.runId = runId;
    this.activityId = activityId;
  }

  private boolean byToken() {
    return taskToken != null;
  }

  public void complete(Object result) {
    var payloads = Protos.encode(client.payloadConverter(), Arrays.asList(result));
    var stub = client.connection().call();
    if (byToken()) {
      Calls.activityCall(() -> stub.respondActivityTaskCompleted(RespondActivityTaskCompletedRequest.newBuilder()
          .setNamespace(client.namespace()).setTaskToken(ByteString.copyFrom(taskToken))
          .setResult(payloads).setIdentity(client.options().identity()).build()));
    } else {
      Calls.activityCall(() -> stub.respondActivityTaskCompletedById(RespondActivityTaskCompletedByIdRequest.newBuilder()
          .setNamespace(client.namespace()).setWorkflowId(workflowId).setRunId(runId).setActivityId(activityId)
          .setResult(payloads).setIdentity(client.options().identity()).build()));
    }
  }

  /** Fails the attempt; the server retries per the activity's retry policy. */
  public void fail(Throwable failure) {
    var proto = Failures.toProto(failure, client.payloadConverter());
    var stub = client.connection().call();
    if (byToken()) {
      Calls.activityCall(() -> stub.respondActivityTaskFailed(RespondActivityTaskFailedRequest.newBuilder()
          .setNamespace(client.namespace()).setTaskToken(ByteString.copyFrom(taskToken))
          .setFailure(proto).setIdentity(client.options().identity()).build()));
    } else {
      Calls.activityCall(() -> stub.respondActivityTaskFailedById(RespondActivityTaskFailedByIdRequest.newBuilder()
          .setNamespace(client.namespace()).setWorkflowId(workflowId).setRunId(runId).setActivityId(activityId)
          .setFailure(proto).setIdentity(client.options().identity()).build()));
    }
  }

  /** Reports the activity cancelled, as it should once a heartbeat said cancellation was requested. */
  public void reportCancellation(Object... details) {
    var payloads = Protos.encode(client.payloadConverter(), Arrays.asList(details));
    var stub = client.connection().call();
    if (byToken()) {
      Calls.activityCall(() -> stub.respondActivityTaskCanceled(RespondActivityTaskCanceledRequest.newBuilder()
          .setNamespace(client.namespace()).setTaskToken(ByteString.copyFrom(taskToken))
          .setDetails(payloads).setIdentity(client.options().identity()).build()));
    } else {
      Calls.activityCall(() -> stub.respondActivityTaskCanceledById(RespondActivityTaskCanceledByIdRequest.newBuilder()
          .setNamespace(client.namespace()).setWorkflowId(workflowId).setRunId(runId).setActivityId(activityId)
          .setDetails(payloads).setIdentity(client.options().identity()).build()));
    }
  }

  /**
   * Records progress details and keeps the heartbeat timeout from firing.
   *
   * @return whether cancellation of the activity has been requested
   */
  public boolean heartbeat(Object... details) {
    var payloads = Protos.encode(client.payloadConverter(), Arrays.asList(details));
    var stub = client.connection().call();
    if (byToken()) {
      return Calls.activityCall(() -> stub.recordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest.newBuilder()
          .setNamespace(client.namespace()).setTaskToken(ByteString.copyFrom(taskToken))
          .setDetails(payloads).setIdentity(client.options().identity()).build())).getCancelRequested();
    }
    return Calls.activityCall(() -> stub.recordActivityTaskHeartbeatById(RecordActivityTaskHeartbeatByIdRequest.newBuilder()
        .setNamespace(client.namespace()).setWorkflowId(workflowId).setRunId(runId).setActivityId(activityId)
        .setDetails(payloads).setIdentity(client.options().identity()).build())).getCancelRequested();
  }

  @Override
  public String toString() {
    return byToken() ? "ActivityCompletionHandle[token " + PerduraClient.hex(taskToken) + "…]"
        : "ActivityCompletionHandle[" + workflowId + "/" + runId + "/" + activityId + "]";
  }
}
