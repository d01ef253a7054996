package dev.perdura.server.common;

import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers sent by a history shard's writer go to the network thread of their call, all the answers
 * of one batch in one task per network thread. Sent one by one from the writer, each answer queued
 * its frames for the network thread, which woke (a system call on each side) and wrote them out
 * while the writer was still sending the next: about 2.4 wake-ups and two socket writes per batch.
 * Handed over together, the network thread is woken once per batch and writes the batch's answers
 * in one flush.
 *
 * <pre>{@code
 * EventExecutor loop = LoopHandoff.currentLoop();      // on the network thread, with the request
 * ...
 * LoopHandoff.run(loop, () -> { observer.onNext(r); observer.onCompleted(); });  // later, anywhere
 * }</pre>
 *
 * <p>A task runs where it is asked for unless the asking thread is {@linkplain #gathering gathering}
 * (the writer while it hands out a batch's results) and the call came from a network thread; a
 * call made elsewhere (a virtual thread, a test calling the service directly) is answered at once.
 */
public final class LoopHandoff {
  private static final Logger log = LoggerFactory.getLogger(LoopHandoff.class);
  /** The tasks gathered by the calling thread, by network thread; null when it is not gathering. */
  private static final ThreadLocal<Map<EventExecutor, List<Runnable>>> GATHERED = new ThreadLocal<>();

  private LoopHandoff() {}

  /** The network thread (netty event loop) calling this, or null on any other thread. */
  public static EventExecutor currentLoop() {
    EventExecutor loop = ThreadExecutorMap.currentExecutor();
    return loop != null && loop.inEventLoop() ? loop : null;
  }

  /** Runs {@code task} on {@code loop} with the rest of the batch being gathered, or here and now. */
  public static void run(EventExecutor loop, Runnable task) {
    Map<EventExecutor, List<Runnable>> gathered = GATHERED.get();
    if (loop == null || gathered == null) {
      task.run();
      return;
    }
    gathered.computeIfAbsent(loop, l -> new ArrayList<>()).add(task);
  }

  /** Runs {@code body}; the tasks it asked for go to their network threads once it returns, one task each. */
  public static void gathering(Runnable body) {
    if (GATHERED.get() != null) {
      body.run();
      return;
    }
    Map<EventExecutor, List<Runnable>> gathered = new LinkedHashMap<>();
    GATHERED.set(gathered);
    try {
      body.run();
    } finally {
      GATHERED.remove();
      gathered.forEach((loop, tasks) -> {
        try {
          loop.execute(() -> runAll(tasks));
        } catch (RejectedExecutionException stopping) {
          // The network thread runs no more tasks: its calls end with it, but each task still runs.
          runAll(tasks);
        }
      });
    }
  }

  private static void runAll(List<Runnable> tasks) {
    for (Runnable task : tasks) {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.error("an answer handed to the network thread failed", e);
      }
    }
  }
}
