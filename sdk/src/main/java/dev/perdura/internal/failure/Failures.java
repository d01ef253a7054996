package dev.perdura.internal.failure;

import dev.perdura.converter.PayloadConverter;
import dev.perdura.failure.ApplicationFailure;
import dev.perdura.failure.CanceledFailure;
import dev.perdura.failure.TimeoutFailure;
import dev.perdura.internal.Protos;
import io.temporal.api.failure.v1.ApplicationFailureInfo;
import io.temporal.api.failure.v1.Failure;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.IdentityHashMap;
import java.util.Map;

/** Exceptions to the API's {@code Failure} records, with their causes, the way other SDKs read them. */
public final class Failures {
  public static final String SOURCE = "PerduraJavaSDK";
  private static final int MAX_CAUSE_DEPTH = 20;

  private Failures() {}

  public static Failure toProto(Throwable error, PayloadConverter converter) {
    return toProto(error, converter, new IdentityHashMap<>(), 0);
  }

  private static Failure toProto(Throwable error, PayloadConverter converter, Map<Throwable, Boolean> seen, int depth) {
    seen.put(error, true);
    Failure.Builder failure = Failure.newBuilder()
        .setSource(SOURCE)
        .setMessage(error.getMessage() == null ? "" : error.getMessage())
        .setStackTrace(stackTrace(error));
    if (error instanceof CanceledFailure) {
      return failure.setCanceledFailureInfo(io.temporal.api.failure.v1.CanceledFailureInfo.getDefaultInstance()).build();
    }
    ApplicationFailureInfo.Builder info = ApplicationFailureInfo.newBuilder();
    if (error instanceof ApplicationFailure application) {
      info.setType(application.type()).setNonRetryable(application.isNonRetryable());
      if (!application.details().isEmpty()) {
        info.setDetails(Protos.encode(converter, application.details()));
      }
      application.nextRetryDelay().ifPresent(delay -> info.setNextRetryDelay(Protos.toProto(delay)));
    } else {
      info.setType(error.getClass().getName());
    }
    failure.setApplicationFailureInfo(info);
    Throwable cause = error.getCause();
    if (cause != null && !seen.containsKey(cause) && depth < MAX_CAUSE_DEPTH) {
      failure.setCause(toProto(cause, converter, seen, depth + 1));
    }
    return failure.build();
  }

  private static String stackTrace(Throwable error) {
    StringWriter out = new StringWriter();
    for (StackTraceElement element : error.getStackTrace()) {
      out.append(element.toString()).append('\n');
    }
    return out.toString();
  }

  /** The exception a {@code Failure} record stands for, with its causes; details stay encoded. */
  public static RuntimeException fromProto(Failure failure) {
    RuntimeException cause = failure.hasCause() ? fromProto(failure.getCause()) : null;
    RuntimeException error;
    if (failure.hasTimeoutFailureInfo()) {
      var info = failure.getTimeoutFailureInfo();
      TimeoutFailure.Type type = switch (info.getTimeoutType()) {
        case TIMEOUT_TYPE_SCHEDULE_TO_START -> TimeoutFailure.Type.SCHEDULE_TO_START;
        case TIMEOUT_TYPE_SCHEDULE_TO_CLOSE -> TimeoutFailure.Type.SCHEDULE_TO_CLOSE;
        case TIMEOUT_TYPE_HEARTBEAT -> TimeoutFailure.Type.HEARTBEAT;
        default -> TimeoutFailure.Type.START_TO_CLOSE;
      };
      error = new TimeoutFailure(failure.getMessage(), type, Protos.payloads(info.getLastHeartbeatDetails()));
    } else if (failure.hasCanceledFailureInfo()) {
      error = new CanceledFailure(failure.getMessage());
    } else if (failure.hasApplicationFailureInfo()) {
      var info = failure.getApplicationFailureInfo();
      ApplicationFailure application = info.getNonRetryable()
          ? ApplicationFailure.nonRetryable(failure.getMessage(), info.getType())
          : ApplicationFailure.retryable(failure.getMessage(), info.getType());
      error = application;
    } else {
      error = ApplicationFailure.retryable(failure.getMessage(), "");
    }
    if (cause != null) {
      if (error instanceof ApplicationFailure application) {
        error = application.withCause(cause);
      } else {
        error.initCause(cause);
      }
    }
    return error;
  }

  /** Used where a whole trace (with causes) reads better, such as logs. */
  static String fullTrace(Throwable error) {
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
