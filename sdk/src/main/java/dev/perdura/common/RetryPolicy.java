package dev.perdura.common;

import java.time.Duration;
import java.util.List;

/**
 * How the server retries a failed activity attempt. Unset values (null, 0) take the server's defaults:
 * 1 s initial interval, coefficient 2, maximum interval 100 × the initial one, unlimited attempts.
 *
 * @param maximumAttempts 0 for unlimited; 1 for no retries
 * @param nonRetryableErrorTypes failure types that are never retried
 */
public record RetryPolicy(Duration initialInterval, double backoffCoefficient, Duration maximumInterval,
    int maximumAttempts, List<String> nonRetryableErrorTypes) {
  public static final RetryPolicy DEFAULT = new RetryPolicy(null, 0, null, 0, List.of());

  public RetryPolicy {
    if (initialInterval != null && (initialInterval.isNegative() || initialInterval.isZero())) {
      throw new IllegalArgumentException("initialInterval must be positive, was " + initialInterval);
    }
    if (backoffCoefficient != 0 && backoffCoefficient < 1) {
      throw new IllegalArgumentException("backoffCoefficient must be at least 1, was " + backoffCoefficient);
    }
    if (maximumAttempts < 0) {
      throw new IllegalArgumentException("maximumAttempts must not be negative, was " + maximumAttempts);
    }
    nonRetryableErrorTypes = nonRetryableErrorTypes == null ? List.of() : List.copyOf(nonRetryableErrorTypes);
  }

  /** At most {@code attempts} attempts in all (1 = no retries). */
  public static RetryPolicy maximumAttempts(int attempts) {
    return new RetryPolicy(null, 0, null, attempts, List.of());
  }

  public RetryPolicy withInitialInterval(Duration interval) {
    return new RetryPolicy(interval, backoffCoefficient, maximumInterval, maximumAttempts, nonRetryableErrorTypes);
  }

  public RetryPolicy withMaximumAttempts(int attempts) {
    return new RetryPolicy(initialInterval, backoffCoefficient, maximumInterval, attempts, nonRetryableErrorTypes);
  }

  public RetryPolicy withNonRetryableErrorTypes(String... types) {
    return new RetryPolicy(initialInterval, backoffCoefficient, maximumInterval, maximumAttempts, List.of(types));
  }
}
