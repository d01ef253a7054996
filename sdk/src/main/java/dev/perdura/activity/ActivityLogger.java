package dev.perdura.activity;

import dev.perdura.internal.activity.ActivityExecution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * An SLF4J logger that adds the running activity's context to each record; outside an activity it
 * logs plainly. Three switches, all copies ({@code with...} returns a new logger):
 *
 * <ul>
 *   <li>{@link #withInfoOnMessage} (default on): append {@code ({activity_id=..., ...})} to the message;
 *   <li>{@link #withInfoInMdc} (default on): put those keys in the MDC while the record is logged;
 *   <li>{@link #withFullInfoInMdc} (default off): also put every other {@link ActivityInfo} field there.
 * </ul>
 *
 * <pre>{@code
 * Logger custom = ActivityLogger.wrap(LoggerFactory.getLogger("custom"))
 *     .withInfoOnMessage(false).withFullInfoInMdc(true);
 * custom.info("custom logging with full activity info in the MDC");
 * }</pre>
 */
public final class ActivityLogger extends AbstractLogger {
  private final Logger base;
  private final boolean infoOnMessage;
  private final boolean infoInMdc;
  private final boolean fullInfoInMdc;

  private ActivityLogger(Logger base, boolean infoOnMessage, boolean infoInMdc, boolean fullInfoInMdc) {
    this.base = Objects.requireNonNull(base, "base");
    this.infoOnMessage = infoOnMessage;
    this.infoInMdc = infoInMdc;
    this.fullInfoInMdc = fullInfoInMdc;
    this.name = base.getName();
  }

  public static ActivityLogger wrap(Logger base) {
    return new ActivityLogger(base, true, true, false);
  }

  public ActivityLogger withInfoOnMessage(boolean on) {
    return new ActivityLogger(base, on, infoInMdc, fullInfoInMdc);
  }

  public ActivityLogger withInfoInMdc(boolean on) {
    return new ActivityLogger(base, infoOnMessage, on, fullInfoInMdc);
  }

  public ActivityLogger withFullInfoInMdc(boolean on) {
    return new ActivityLogger(base, infoOnMessage, infoInMdc, on);
  }

  /** The wrapped logger, for configuring handlers and the like. */
  public Logger baseLogger() {
    return base;
  }

  /** The context keys of an activity, as they appear on messages and in the MDC. */
  static Map<String, String> context(ActivityInfo info) {
    Map<String, String> context = new LinkedHashMap<>();
    context.put("activity_id", info.activityId());
    context.put("activity_type", info.activityType());
    context.put("attempt", Integer.toString(info.attempt()));
    context.put("namespace", info.namespace());
    context.put("task_queue", info.taskQueue());
    info.workflowId().ifPresent(id -> context.put("workflow_id", id));
    info.workflowRunId().ifPresent(id -> context.put("workflow_run_id", id));
    info.workflowType().ifPresent(type -> context.put("workflow_type", type));
    return context;
  }

  private static Map<String, String> fullContext(ActivityInfo info) {
    Map<String, String> context = new LinkedHashMap<>();
    context.put("activity_scheduled_time", info.scheduledTime().toString());
    context.put("activity_current_attempt_scheduled_time", info.currentAttemptScheduledTime().toString());
    context.put("activity_started_time", info.startedTime().toString());
    info.startToCloseTimeout().ifPresent(t -> context.put("activity_start_to_close_timeout", t.toString()));
    info.scheduleToCloseTimeout().ifPresent(t -> context.put("activity_schedule_to_close_timeout", t.toString()));
    info.heartbeatTimeout().ifPresent(t -> context.put("activity_heartbeat_timeout", t.toString()));
    context.put("activity_is_local", Boolean.toString(info.local()));
    context.put("activity_priority_key", Integer.toString(info.priority().priorityKey()));
    return context;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level, Marker marker, String messagePattern, Object[] arguments, Throwable throwable) {
    ActivityExecution execution = ActivityExecution.current();
    String message = messagePattern;
    List<String> added = new ArrayList<>();
    if (execution != null) {
      Map<String, String> context = context(execution.info());
      if (infoOnMessage) {
        message = messagePattern + " (" + context + ")";
      }
      if (infoInMdc || fullInfoInMdc) {
        Map<String, String> keys = new LinkedHashMap<>();
        if (infoInMdc) {
          keys.putAll(context);
        }
        if (fullInfoInMdc) {
          keys.putAll(context);
          keys.putAll(fullContext(execution.info()));
        }
        keys.forEach((k, v) -> {
          if (MDC.get(k) == null) {
            MDC.put(k, v);
            added.add(k);
          }
        });
      }
    }
    try {
      LoggingEventBuilder event = base.atLevel(level).setMessage(message).setCause(throwable);
      if (marker != null) {
        event = event.addMarker(marker);
      }
      if (arguments != null) {
        for (Object argument : arguments) {
          event = event.addArgument(argument);
        }
      }
      event.log();
    } finally {
      added.forEach(MDC::remove);
    }
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return ActivityLogger.class.getName();
  }

  @Override
  public boolean isTraceEnabled() {
    return base.isTraceEnabled();
  }

  @Override
  public boolean isTraceEnabled(Marker marker) {
    return base.isTraceEnabled(marker);
  }

  @Override
  public boolean isDebugEnabled() {
    return base.isDebugEnabled();
  }

  @Override
  public boolean isDebugEnabled(Marker marker) {
    return base.isDebugEnabled(marker);
  }

  @Override
  public boolean isInfoEnabled() {
    return base.isInfoEnabled();
  }

  @Override
  public boolean isInfoEnabled(Marker marker) {
    return base.isInfoEnabled(marker);
  }

  @Override
  public boolean isWarnEnabled() {
    return base.isWarnEnabled();
  }

  @Override
  public boolean isWarnEnabled(Marker marker) {
    return base.isWarnEnabled(marker);
  }

  @Override
  public boolean isErrorEnabled() {
    return base.isErrorEnabled();
  }

  @Override
  public boolean isErrorEnabled(Marker marker) {
    return base.isErrorEnabled(marker);
  }
}
