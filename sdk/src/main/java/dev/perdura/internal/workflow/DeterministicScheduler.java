package dev.perdura.internal.workflow;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;

/**
 * Runs a workflow's threads one at a time, in a fixed order, so that the same history always drives
 * the same code path. Each workflow thread is a virtual thread that runs only while it holds its turn;
 * it gives the turn back when it blocks ({@link #await}) or ends. {@link #runUntilBlocked()} lets every
 * thread whose condition holds run, again and again, until none can.
 *
 * <p>Conditions are evaluated on the caller's thread while no workflow thread runs, so workflow state
 * needs no locks.
 */
public final class DeterministicScheduler {
  /** Thrown inside a workflow thread to unwind it when its run is discarded. */
  static final class Destroyed extends Error {
    Destroyed() {
      super("workflow thread destroyed", null, false, false);
    }
  }

  private static final ThreadLocal<WorkflowThread> CURRENT = new ThreadLocal<>();

  private final List<WorkflowThread> threads = new ArrayList<>();
  private final Semaphore back = new Semaphore(0);
  private boolean destroyed;
  private Throwable failure;

  final class WorkflowThread {
    private final String name;
    private final Runnable body;
    private final Semaphore turn = new Semaphore(0);
    private BooleanSupplier waitingFor;
    private boolean started;
    private boolean done;
    private Thread thread;

    WorkflowThread(String name, Runnable body) {
      this.name = name;
      this.body = body;
    }

    private boolean runnable() {
      return !done && (waitingFor == null || waitingFor.getAsBoolean());
    }

    /** Gives this thread the turn and waits until it blocks or ends. */
    private void step() {
      if (!started) {
        started = true;
        thread = Thread.ofVirtual().name("workflow-" + name).unstarted(this::main);
        thread.start();
      } else {
        turn.release();
      }
      back.acquireUninterruptibly();
    }

    private void main() {
      CURRENT.set(this);
      try {
        if (!destroyed) {
          body.run();
        }
      } catch (Destroyed e) {
        // unwound on purpose
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        }
      } finally {
        done = true;
        CURRENT.remove();
        back.release();
      }
    }

    private void yieldUntil(BooleanSupplier condition) {
      waitingFor = condition;
      back.release();
      turn.acquireUninterruptibly();
      if (destroyed) {
        throw new Destroyed();
      }
      waitingFor = null;
    }
  }

  /** Adds a thread; it first runs at the next {@link #runUntilBlocked()} (or the current one). */
  public void start(String name, Runnable body) {
    threads.add(new WorkflowThread(name, body));
  }

  /** Whether the calling thread is a workflow thread of some scheduler. */
  public static boolean inWorkflowThread() {
    return CURRENT.get() != null;
  }

  /**
   * Blocks the calling workflow thread until the condition holds. The condition must only read
   * workflow state.
   */
  public static void await(BooleanSupplier condition) {
    WorkflowThread current = CURRENT.get();
    if (current == null) {
      throw new IllegalStateException("not in a workflow thread: workflow APIs work only inside workflow code");
    }
    if (condition.getAsBoolean()) {
      return;
    }
    current.yieldUntil(condition);
  }

  /**
   * Runs threads until all are blocked or done.
   *
   * @return the first exception a workflow thread let escape, or null
   */
  public Throwable runUntilBlocked() {
    boolean progress = true;
    while (progress && failure == null) {
      progress = false;
      // New threads started during this pass run in the same pass, after the existing ones.
      for (int i = 0; i < threads.size() && failure == null; i++) {
        WorkflowThread thread = threads.get(i);
        if (thread.runnable()) {
          thread.step();
          progress = true;
        }
      }
    }
    return failure;
  }

  /** Whether the first thread (the workflow method) has ended. */
  public boolean mainDone() {
    return !threads.isEmpty() && threads.getFirst().done;
  }

  /** Unwinds every blocked thread; the scheduler is unusable afterwards. */
  public void destroy() {
    destroyed = true;
    for (WorkflowThread thread : threads) {
      if (thread.started && !thread.done) {
        thread.step();
      }
    }
  }
}
