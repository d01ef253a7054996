package dev.perdura.bench.internal;

import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.VisibilityRow;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The history shard's writes without the server around them: runs shaped like the throughput
 * scenario's workflows (a start, three changes of state only, a close; two events of 200 bytes and
 * a state of 285 bytes each, the sizes such a run has in the store) committed in batches of B
 * changes to distinct runs, F runs in flight, on the calling thread. What a commit costs per change
 * in CPU (user and kernel: SQLite, the WAL's writes, checkpoints) is measured on that thread alone,
 * so store changes compare with far less noise than through a whole server.
 */
public final class StoreScenario {
  /** Changes of one run: start, three of state only, close. */
  private static final int CHANGES_PER_RUN = 5;
  private static final int STATE_BYTES = 285;
  private static final int EVENT_BYTES = 200;

  private StoreScenario() {}

  /**
   * What one round measured.
   *
   * @param cpuMicrosPerChange the committing thread's CPU time per change, in microseconds
   * @param wallMicrosPerChange wall time per change (CPU plus waits such as a checkpoint's fsync)
   */
  public record Result(int changes, int batch, int inFlight, double cpuMicrosPerChange,
      double wallMicrosPerChange, double changesPerSecond) {
    /** Prints the figures as a small table. */
    public void print(PrintStream out, String title) {
      out.println(title);
      out.printf("  changes       %d (batches of %d, %d runs in flight)%n", changes, batch, inFlight);
      out.printf("  commit CPU    %.1f µs/change%n", cpuMicrosPerChange);
      out.printf("  commit wall   %.1f µs/change, %.0f changes/s%n", wallMicrosPerChange, changesPerSecond);
    }
  }

  /** Writes runs to {@code store} and keeps track of the ones in flight between rounds. */
  public static final class Writer {
    private final Store store;
    private final int batch;
    private final int inFlight;
    private final Random random = new Random(1);
    private final byte[] state = new byte[STATE_BYTES];
    private final byte[] event = new byte[EVENT_BYTES];
    private final String prefix = "store-" + UUID.randomUUID() + "-";
    private final List<Run> live = new ArrayList<>();
    private int started;

    private record Run(ExecutionKey key, int changes) {}

    /**
     * @throws IllegalArgumentException if {@code batch} is below 1 or above {@code inFlight} (a batch
     *     changes distinct runs)
     */
    public Writer(Store store, int batch, int inFlight) {
      if (batch < 1 || inFlight < batch) {
        throw new IllegalArgumentException("--batch must be at least 1 and at most --in-flight");
      }
      this.store = store;
      this.batch = batch;
      this.inFlight = inFlight;
      random.nextBytes(state);
      random.nextBytes(event);
    }

    /** Commits at least {@code changes} changes; progress lines go to {@code progress}. */
    public Result round(String label, int changes, PrintStream progress) throws InterruptedException {
      if (changes < 1) {
        throw new IllegalArgumentException("--changes must be at least 1");
      }
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      AtomicInteger done = new AtomicInteger();
      long cpuBefore = threads.getCurrentThreadCpuTime();
      long wallBefore = System.nanoTime();
      try (Progress ignored = Progress.start(progress, label, changes, done::get)) {
        while (done.get() < changes) {
          done.addAndGet(commitBatch());
        }
      }
      double wallNanos = System.nanoTime() - wallBefore;
      double cpuNanos = threads.getCurrentThreadCpuTime() - cpuBefore;
      int n = done.get();
      return new Result(n, batch, inFlight, cpuNanos / 1e3 / n, wallNanos / 1e3 / n, n / (wallNanos / 1e9));
    }

    private int commitBatch() {
      List<ExecutionWrite> writes = new ArrayList<>(batch);
      Set<ExecutionKey> inBatch = new HashSet<>();
      while (writes.size() < batch) {
        while (live.size() < inFlight) {
          live.add(new Run(new ExecutionKey("default", prefix + started++, UUID.randomUUID().toString()), 0));
        }
        int i = random.nextInt(live.size());
        Run run = live.get(i);
        if (!inBatch.add(run.key())) {
          continue;
        }
        int change = run.changes() + 1;
        boolean closes = change == CHANGES_PER_RUN;
        VisibilityRow visibility = new VisibilityRow("Workflow", "queue", closes ? 2 : 1, 1_000,
            closes ? 2_000 : 0, 1_000, change * 2L, run.key().runId(), null, null);
        ExecutionRow row = new ExecutionRow(run.key(), change, state, visibility);
        List<EventRow> events = List.of(new EventRow(change * 2L - 1, event), new EventRow(change * 2L, event));
        if (change == 1) {
          writes.add(new ExecutionWrite(row, 0, true, events, false, false));
        } else if (closes) {
          writes.add(new ExecutionWrite(row, change - 1, false, events, false, false));
        } else {
          writes.add(new ExecutionWrite(row, change - 1, false, events, false, false, false, true));
        }
        if (closes) {
          live.remove(i);
        } else {
          live.set(i, new Run(run.key(), change));
        }
      }
      store.commit(writes);
      return writes.size();
    }
  }
}
