package dev.perdura.bench.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Unwrapping the result of a finished task. */
final class Futures {
  private Futures() {}

  /** The task's value, or its failure rethrown (unchecked failures as they are). */
  static <T> T get(Future<T> future) throws InterruptedException {
    try {
      return future.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}
