package dev.perdura.server.common;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.temporal.api.errordetails.v1.NamespaceAlreadyExistsFailure;
import io.temporal.api.errordetails.v1.NamespaceNotFoundFailure;
import io.temporal.api.errordetails.v1.NotFoundFailure;
import io.temporal.api.errordetails.v1.QueryFailedFailure;
import io.temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure;
import io.temporal.api.errordetails.v1.WorkflowNotReadyFailure;
import io.temporal.api.failure.v1.Failure;

/**
 * The gRPC errors the server answers with, each with the Temporal failure detail SDKs look for in
 * {@code details[0]} (they key on the detail's type, so it must be exact).
 */
public final class Errors {
  private Errors() {}

  public static StatusRuntimeException invalidArgument(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException failedPrecondition(String message) {
    return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
  }

  public static StatusRuntimeException unavailable(String message, Throwable cause) {
    return Status.UNAVAILABLE.withDescription(message).withCause(cause).asRuntimeException();
  }

  public static StatusRuntimeException internal(String message, Throwable cause) {
    return Status.INTERNAL.withDescription(message).withCause(cause).asRuntimeException();
  }

  public static StatusRuntimeException notFound(String message) {
    return withDetail(Status.Code.NOT_FOUND, message, NotFoundFailure.getDefaultInstance());
  }

  public static StatusRuntimeException namespaceNotFound(String namespace) {
    return withDetail(
        Status.Code.NOT_FOUND,
        "Namespace " + namespace + " is not found.",
        NamespaceNotFoundFailure.newBuilder().setNamespace(namespace).build());
  }

  public static StatusRuntimeException namespaceAlreadyExists(String namespace) {
    return withDetail(
        Status.Code.ALREADY_EXISTS,
        "Namespace " + namespace + " already exists.",
        NamespaceAlreadyExistsFailure.getDefaultInstance());
  }

  public static StatusRuntimeException alreadyStarted(
      String workflowId, String runId, String startRequestId) {
    return withDetail(
        Status.Code.ALREADY_EXISTS,
        "Workflow execution is already running. WorkflowId: " + workflowId + ", RunId: " + runId,
        WorkflowExecutionAlreadyStartedFailure.newBuilder()
            .setRunId(runId)
            .setStartRequestId(startRequestId)
            .build());
  }

  public static StatusRuntimeException alreadyExists(
      String message, String workflowId, String runId, String startRequestId) {
    return withDetail(
        Status.Code.ALREADY_EXISTS,
        message + " WorkflowId: " + workflowId + ", RunId: " + runId,
        WorkflowExecutionAlreadyStartedFailure.newBuilder()
            .setRunId(runId)
            .setStartRequestId(startRequestId)
            .build());
  }

  public static StatusRuntimeException queryFailed(String message, Failure failure) {
    QueryFailedFailure.Builder detail = QueryFailedFailure.newBuilder();
    if (failure != null) {
      detail.setFailure(failure);
    }
    return withDetail(Status.Code.INVALID_ARGUMENT, message, detail.build());
  }

  public static StatusRuntimeException workflowNotReady(String message) {
    return withDetail(
        Status.Code.FAILED_PRECONDITION, message, WorkflowNotReadyFailure.getDefaultInstance());
  }

  private static StatusRuntimeException withDetail(
      Status.Code code, String message, Message detail) {
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(code.value())
            .setMessage(message)
            .addDetails(Any.pack(detail))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }
}
