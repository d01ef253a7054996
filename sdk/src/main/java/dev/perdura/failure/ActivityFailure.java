package dev.perdura.failure;

/**
 * An activity a workflow ran did not produce a result. The cause says why: an
 * {@link ApplicationFailure} it threw, a {@link TimeoutFailure}, or a {@link CanceledFailure}.
 */
public final class ActivityFailure extends RuntimeException {
  private final String activityType;
  private final String activityId;

  public ActivityFailure(String activityType, String activityId, Throwable cause) {
    super("activity " + activityType + " (" + activityId + ") failed: " + (cause == null ? "" : cause.getMessage()),
        cause);
    this.activityType = activityType;
    this.activityId = activityId;
  }

  public String activityType() {
    return activityType;
  }

  public String activityId() {
    return activityId;
  }
}
