package dev.perdura.server.common;

import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the body of a gRPC call that may block (a store read, a wait for its change to commit, a
 * long poll) on a thread of its own, in the call's context (deadline, cancellation).
 *
 * <p>The server runs gRPC's own callbacks (method lookup, parsing the request, half-close) on its
 * network threads, where they only parse and hand over; each call then costs one virtual thread
 * instead of one per callback, and a step of a workflow has fewer hand-offs on its way to the
 * history shard and back (up to 0.25 ms less per sequential activity step, docs/performance.md).
 * Every service whose handlers block hands them over through here; calls whose one wait is a change
 * of a run (under load), a task of a queue or a run's close do not need to: they wait as callbacks
 * (see {@code WorkflowServiceFrontend}).
 */
public final class BlockingCalls {
  private static final Logger log = LoggerFactory.getLogger(BlockingCalls.class);

  private BlockingCalls() {}

  /**
   * Runs {@code body} on {@code executor}. The body answers {@code observer} itself; when it cannot
   * start (the server is stopping) or ends with an unexpected throwable, the call is answered here.
   */
  public static void offload(Executor executor, String method, StreamObserver<?> observer, Runnable body) {
    Runnable inContext = Context.current().wrap(body);
    try {
      executor.execute(() -> {
        try {
          inContext.run();
        } catch (Throwable t) {
          log.error("{} failed unexpectedly", method, t);
          answerError(observer, Errors.internal("internal error: " + t, t));
          if (t instanceof Error error) {
            throw error;
          }
        }
      });
    } catch (RejectedExecutionException e) {
      answerError(observer, Errors.unavailable("this Perdura server is stopping; retry " + method, e));
    }
  }

  private static void answerError(StreamObserver<?> observer, RuntimeException error) {
    try {
      observer.onError(error);
    } catch (IllegalStateException alreadyAnswered) {
      log.debug("call was answered before it failed", alreadyAnswered);
    }
  }
}
