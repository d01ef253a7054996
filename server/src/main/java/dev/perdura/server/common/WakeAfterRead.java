package dev.perdura.server.common;

import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes a parked worker thread once the network thread that asks for it has handled everything it
 * read, instead of at once. The server's handlers run on the network threads: one read often holds
 * several requests, and each queues work for the same history shard. Woken at the first, the shard
 * writes that one change alone, and the others wait for its commit to make another; woken after the
 * last, it writes them together — fewer commits, each with its fixed cost, and one wake-up, which
 * on a virtual machine costs as much as a short commit. The wait is the rest of that read's
 * handling, a few microseconds; from any other thread the wake-up is immediate.
 *
 * <pre>{@code
 * queue.add(change);
 * WakeAfterRead.unpark(writer);
 * }</pre>
 */
public final class WakeAfterRead {
  /** Threads a network thread will wake at the end of its current read, in the order asked. */
  private static final ThreadLocal<List<Thread>> PENDING = ThreadLocal.withInitial(ArrayList::new);

  private WakeAfterRead() {}

  /** Unparks {@code thread}: after the calling network thread's current read, or now from any other thread. */
  public static void unpark(Thread thread) {
    EventExecutor loop = LoopHandoff.currentLoop();
    if (loop == null) {
      LockSupport.unpark(thread);
      return;
    }
    List<Thread> pending = PENDING.get();
    if (pending.contains(thread)) {
      return;
    }
    pending.add(thread);
    if (pending.size() > 1) {
      return;
    }
    try {
      // A task queued from the loop's own thread runs after the I/O it is handling now, in the same
      // turn of the loop, and needs no wake-up of the loop itself.
      loop.execute(WakeAfterRead::unparkPending);
    } catch (RejectedExecutionException e) {
      // The loop is shutting down and will run no more tasks: wake what waits now.
      unparkPending();
    }
  }

  private static void unparkPending() {
    List<Thread> pending = PENDING.get();
    for (Thread thread : pending) {
      LockSupport.unpark(thread);
    }
    pending.clear();
  }
}
