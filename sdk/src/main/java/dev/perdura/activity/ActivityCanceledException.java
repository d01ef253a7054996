package dev.perdura.activity;

/**
 * Thrown inside an activity when it is cancelled: by {@link Activity#heartbeat}, at the end of a
 * {@link CancellationShield}, or wrapped around an interrupted blocking call. Clean up in a
 * {@code finally} or a {@code catch}, and re-throw it so the activity is reported cancelled;
 * returning normally instead completes the activity with that result.
 */
public final class ActivityCanceledException extends RuntimeException {
  private final ActivityCancellationDetails details;

  public ActivityCanceledException(ActivityCancellationDetails details) {
    super("activity cancelled: " + details.reason().name().toLowerCase());
    this.details = details;
  }

  public ActivityCancellationDetails details() {
    return details;
  }
}
