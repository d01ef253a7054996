package dev.perdura.server.history;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.NamespaceRecord;
import dev.perdura.server.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes closed workflows once their namespace's retention period has passed since they closed:
 * their run, history and current-run pointer. Every interval it asks the store for the oldest
 * candidates of each namespace, a batch at a time, and deletes each through its history shard, which
 * checks again that the run is closed and old enough, so a deletion never races a change of the run.
 */
public final class RetentionSweeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RetentionSweeper.class);
  private static final int BATCH = 500;

  private final Store store;
  private final HistoryService history;
  private final Clock clock;
  private final Duration interval;
  private final Thread thread;
  private volatile boolean running = true;

  public RetentionSweeper(Store store, HistoryService history, Clock clock, Duration interval) {
    this.store = store;
    this.history = history;
    this.clock = clock;
    this.interval = interval;
    this.thread = Thread.ofVirtual().name("retention-sweeper").unstarted(this::run);
  }

  public void start() {
    thread.start();
  }

  private void run() {
    while (running) {
      try {
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      }
      try {
        sweepOnce();
      } catch (RuntimeException e) {
        log.error("retention sweep failed; it runs again in {}", interval, e);
      }
    }
  }

  /** One pass over every namespace; returns how many runs it deleted. */
  public int sweepOnce() {
    int deleted = 0;
    for (NamespaceRecord namespace : store.listNamespaces()) {
      long cutoff = clock.millis() - TimeUnit.SECONDS.toMillis(namespace.retentionSeconds());
      int inNamespace = 0;
      List<ExecutionKey> batch;
      do {
        batch = store.findClosedBefore(namespace.name(), cutoff, BATCH);
        int purged = 0;
        for (ExecutionKey key : batch) {
          if (!running) {
            return deleted + inNamespace;
          }
          if (history.purge(key, cutoff)) {
            purged++;
          }
        }
        inNamespace += purged;
        // A batch where nothing could go (raced by a change) would come back the same: stop there.
        if (purged == 0) {
          break;
        }
      } while (batch.size() == BATCH);
      if (inNamespace > 0) {
        log.info("retention: deleted {} workflow runs of namespace {} closed more than {} s ago", inNamespace,
            namespace.name(), namespace.retentionSeconds());
      }
      deleted += inNamespace;
    }
    return deleted;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
