package dev.perdura.activity;

/**
 * Ends an activity method without a result because something else will complete it; see
 * {@link Activity#completeAsync()}. The worker treats it as "report nothing", never as a failure.
 */
public final class CompleteAsyncException extends RuntimeException {
  CompleteAsyncException() {
    super("the activity will be completed asynchronously", null, false, false);
  }
}
