package dev.perdura.internal.grpc;

import dev.perdura.client.ActivityNotFoundException;
import dev.perdura.client.ServiceException;
import dev.perdura.client.WorkflowAlreadyStartedException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.Supplier;

/** Runs a gRPC call and turns its status into the SDK's exceptions. */
public final class Calls {
  private Calls() {}

  public static <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw translate(e);
    }
  }

  /** For activity completions: NOT_FOUND means the activity is no longer waiting for one. */
  public static <T> T activityCall(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new ActivityNotFoundException(e.getStatus().getDescription(), e);
      }
      throw translate(e);
    }
  }

  public static ServiceException translate(StatusRuntimeException e) {
    Status status = e.getStatus();
    String message = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCode() == Status.Code.ALREADY_EXISTS) {
      return new WorkflowAlreadyStartedException(message, e);
    }
    return new ServiceException(status.getCode().name(), message, e);
  }
}
