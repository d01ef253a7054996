package dev.perdura.activity;

/**
 * A block during which cancellation does not interrupt the activity or throw from it; a cancellation
 * that happens meanwhile is thrown when the outermost shield closes, replacing the block's own result
 * or exception. Shields nest.
 *
 * <pre>{@code
 * try (CancellationShield shield = Activity.shieldCancellation()) {
 *   result = performCriticalOperation(data);
 *   cleanupCriticalResources();
 * } // throws ActivityCanceledException here if a cancellation arrived meanwhile
 * }</pre>
 */
public interface CancellationShield extends AutoCloseable {
  /** Ends the shield; throws the deferred cancellation when this is the outermost one. */
  @Override
  void close();
}
