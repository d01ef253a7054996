package dev.perdura.failure;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A failure of user code with a type that retry policies match on. Throw it from an activity to
 * control retries: {@link #nonRetryable} stops them, {@link #nextRetryDelay} overrides the policy's
 * backoff once. Any other exception thrown by an activity is reported as an application failure
 * whose type is the exception's class name.
 *
 * <pre>{@code
 * throw ApplicationFailure.nonRetryable("card declined", "PaymentDeclined");
 * }</pre>
 */
public final class ApplicationFailure extends RuntimeException {
  private final String type;
  private final boolean nonRetryable;
  private final List<Object> details;
  private final Duration nextRetryDelay;

  private ApplicationFailure(String message, String type, boolean nonRetryable, List<Object> details,
      Duration nextRetryDelay, Throwable cause) {
    super(message, cause);
    this.type = type == null ? "" : type;
    this.nonRetryable = nonRetryable;
    this.details = details;
    this.nextRetryDelay = nextRetryDelay;
  }

  /** A retryable failure of the given type, with optional details (encoded with the payload converter). */
  public static ApplicationFailure retryable(String message, String type, Object... details) {
    return new ApplicationFailure(message, type, false, List.of(details), null, null);
  }

  /** A failure that is never retried, whatever the retry policy says. */
  public static ApplicationFailure nonRetryable(String message, String type, Object... details) {
    return new ApplicationFailure(message, type, true, List.of(details), null, null);
  }

  /** A retryable failure whose next attempt starts after {@code delay} instead of the policy's backoff. */
  public static ApplicationFailure retryAfter(String message, String type, Duration delay) {
    return new ApplicationFailure(message, type, false, List.of(), delay, null);
  }

  /** This failure with a cause attached. */
  public ApplicationFailure withCause(Throwable cause) {
    return new ApplicationFailure(getMessage(), type, nonRetryable, details, nextRetryDelay, cause);
  }

  public String type() {
    return type;
  }

  public boolean isNonRetryable() {
    return nonRetryable;
  }

  public List<Object> details() {
    return details;
  }

  public Optional<Duration> nextRetryDelay() {
    return Optional.ofNullable(nextRetryDelay);
  }
}
