package dev.perdura.internal.failure;

import dev.perdura.converter.PayloadConverter;
import dev.perdura.failure.ApplicationFailure;
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

  /** Used where a whole trace (with causes) reads better, such as logs. */
  static String fullTrace(Throwable error) {
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
