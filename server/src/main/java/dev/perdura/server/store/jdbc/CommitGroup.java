package dev.perdura.server.store.jdbc;

import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for the fenced commits of one server's history shards. On PostgreSQL a server owns
 * up to 16 shards, each writing its own batches: with the load spread over them, a commit held one
 * or two changes and paid a transaction, a lease check and a round trip per statement for them.
 * Here a commit that arrives while every writer is busy waits, and the next writer takes every
 * commit queued by then into one transaction.
 *
 * <p>No thread of its own: a caller that gets a writer's permit writes what is queued (its own
 * commit and any others); a caller whose commit was taken waits for that write's outcome. A
 * group whose transaction fails has each of its commits written again alone, so a failure (a lease
 * one shard lost, a row another server changed) stays the failing commit's.
 */
final class CommitGroup {
  private static final Logger log = LoggerFactory.getLogger(CommitGroup.class);
  private static final long WAIT_SECONDS = 60;

  /** One shard's commit, waiting to be written; {@code taken} once a writer has it. */
  record Pending(List<ExecutionWrite> writes, Lease lease, CompletableFuture<Void> done, AtomicBoolean taken) {}

  /** Writes a group in one transaction: all of it lands or nothing does. */
  interface Writer {
    void write(List<Pending> group);
  }

  private final Writer writer;
  private final Semaphore writing;
  private final ConcurrentLinkedQueue<Pending> queued = new ConcurrentLinkedQueue<>();
  private final LongAdder transactions = new LongAdder();
  private final LongAdder commits = new LongAdder();

  CommitGroup(int writers, Writer writer) {
    this.writer = writer;
    this.writing = new Semaphore(writers);
  }

  /** Returns once the writes are committed; throws what writing them alone would have thrown. */
  void commit(List<ExecutionWrite> writes, Lease lease) {
    Pending mine = new Pending(writes, lease, new CompletableFuture<>(), new AtomicBoolean());
    queued.add(mine);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    // Once another writer has taken it, its outcome is awaited, not written for again.
    while (!mine.taken().get()) {
      boolean locked;
      try {
        locked = writing.tryAcquire(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        giveUp(mine, "interrupted while waiting to commit", e);
        break;
      }
      if (!locked) {
        giveUp(mine, "timed out after " + WAIT_SECONDS + " s waiting for other commits to be written", null);
        break;
      }
      try {
        if (!mine.taken().get()) {
          writeQueued();
        }
      } finally {
        writing.release();
      }
    }
    outcome(mine);
  }

  /** Transactions committed so far; {@link #commits} / this is the mean group. */
  long transactions() {
    return transactions.sum();
  }

  /** Commits written so far. */
  long commits() {
    return commits.sum();
  }

  /** Commits waiting for a writer to take them. */
  int queued() {
    return queued.size();
  }

  private void writeQueued() {
    List<Pending> group = new ArrayList<>();
    for (Pending p = queued.poll(); p != null; p = queued.poll()) {
      p.taken().set(true);
      group.add(p);
    }
    if (group.isEmpty()) {
      return;
    }
    try {
      writer.write(group);
      written(group.size());
      group.forEach(p -> p.done().complete(null));
    } catch (RuntimeException e) {
      if (group.size() == 1) {
        group.getFirst().done().completeExceptionally(e);
        return;
      }
      log.info("a group of {} commits failed ({}); writing each alone", group.size(), e.getMessage());
      for (Pending p : group) {
        try {
          writer.write(List.of(p));
          written(1);
          p.done().complete(null);
        } catch (RuntimeException alone) {
          p.done().completeExceptionally(alone);
        }
      }
    } catch (Error e) {
      group.forEach(p -> p.done().completeExceptionally(e));
      throw e;
    }
  }

  private void written(int groupSize) {
    transactions.increment();
    commits.add(groupSize);
  }

  /**
   * The caller stops waiting: a commit still queued is taken out and fails; one another caller is
   * already writing has an outcome soon, which is the caller's.
   */
  private void giveUp(Pending mine, String why, Throwable cause) {
    if (queued.remove(mine)) {
      mine.taken().set(true);
      mine.done().completeExceptionally(new StoreException("cannot commit: " + why, cause));
    }
  }

  private static void outcome(Pending mine) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          mine.done().get(WAIT_SECONDS, TimeUnit.SECONDS);
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (e.getCause() instanceof Error error) {
            throw error;
          }
          throw new StoreException("cannot commit: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
          throw new StoreException("cannot tell whether a commit landed: its transaction has run for more than "
              + WAIT_SECONDS + " s", e);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
