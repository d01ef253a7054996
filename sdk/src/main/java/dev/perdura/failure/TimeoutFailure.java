package dev.perdura.failure;

import dev.perdura.common.Payload;
import java.util.List;

/** A timeout passed: which one, and the last heartbeat details of the attempt that timed out. */
public final class TimeoutFailure extends RuntimeException {
  /** The timeouts an activity or workflow can exceed. */
  public enum Type { START_TO_CLOSE, SCHEDULE_TO_START, SCHEDULE_TO_CLOSE, HEARTBEAT }

  private final Type type;
  private final List<Payload> lastHeartbeatDetails;

  public TimeoutFailure(String message, Type type, List<Payload> lastHeartbeatDetails) {
    super(message == null || message.isEmpty() ? type.name().toLowerCase() + " timeout" : message);
    this.type = type;
    this.lastHeartbeatDetails = List.copyOf(lastHeartbeatDetails);
  }

  public Type type() {
    return type;
  }

  public List<Payload> lastHeartbeatDetails() {
    return lastHeartbeatDetails;
  }
}
