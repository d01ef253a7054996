package dev.perdura.server.history;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.Store;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workflow ids of one history shard that have a current run, as a Bloom filter: the start of a
 * workflow id the shard has never seen (the usual start) learns that it has no current run without
 * reading the store. No id that has a current run is ever missing: the filter is filled from the
 * store when the shard starts, while the shard's commits add every id they make current, and it
 * answers only once that scan is done. An id it wrongly holds (1 % of new ids), or one whose runs
 * were deleted since, costs the store read as before.
 *
 * <p>Sized for twice the ids found plus 100 000 (120 KB; 1.2 bytes per id); past that size its false
 * positives grow, so the shard fills a larger one the same way, up to {@value #MAX_IDS} ids (4.8 MB,
 * the server's heap being small); a shard with more ids looks each start up in the store.
 */
final class KnownWorkflowIds {
  private static final Logger log = LoggerFactory.getLogger(KnownWorkflowIds.class);
  private static final int PAGE = 10_000;
  private static final double FALSE_POSITIVES = 0.01;
  private static final long HEADROOM = 100_000;
  static final long MAX_IDS = 4_000_000;

  private final int shard;
  private final long capacity;
  private final BloomFilter<CharSequence> ids;
  private volatile boolean complete;

  private KnownWorkflowIds(int shard, long capacity) {
    this.shard = shard;
    this.capacity = capacity;
    this.ids = BloomFilter.create(Funnels.stringFunnel(StandardCharsets.UTF_8), capacity, FALSE_POSITIVES);
  }

  /** A filter to fill: for about {@code expected} ids, with room for more. */
  static KnownWorkflowIds sizedFor(int shard, long expected) {
    return new KnownWorkflowIds(shard, Math.min(2 * expected + HEADROOM, MAX_IDS));
  }

  /** Whether a larger filter may replace this one once it is {@linkplain #full full}. */
  boolean canGrow() {
    return capacity < MAX_IDS;
  }

  /** An id made current by a commit; any thread. */
  void add(String currentKey) {
    ids.put(currentKey);
  }

  /**
   * Adds every current run of the store on this shard, a page at a time; then the filter answers.
   * Stops early, unfilled, when the thread is interrupted (the shard closes).
   */
  void fill(Store store, Predicate<ExecutionKey> onThisShard) {
    fill(store, onThisShard, PAGE);
  }

  void fill(Store store, Predicate<ExecutionKey> onThisShard, int pageSize) {
    long started = System.nanoTime();
    long found = 0;
    String namespace = "";
    String workflowId = "";
    while (!Thread.currentThread().isInterrupted()) {
      List<ExecutionKey> page = store.listCurrentRuns(namespace, workflowId, pageSize);
      for (ExecutionKey run : page) {
        if (onThisShard.test(run)) {
          add(HistoryShard.currentKey(run.namespace(), run.workflowId()));
          found++;
        }
      }
      if (page.size() < pageSize) {
        complete = true;
        log.info("history shard {}: {} workflow ids with a current run known in {} ms; starts of other ids "
            + "skip the store's lookup", shard, found, (System.nanoTime() - started) / 1_000_000);
        return;
      }
      namespace = page.getLast().namespace();
      workflowId = page.getLast().workflowId();
    }
  }

  /** Whether the id may have a current run: false only when it certainly has none. */
  boolean mayHaveRun(String currentKey) {
    return !complete || ids.mightContain(currentKey);
  }

  /** Whether it holds more ids than it was sized for, and a larger one should replace it. */
  boolean full() {
    return ids.approximateElementCount() > capacity;
  }

  long approximateIds() {
    return ids.approximateElementCount();
  }
}
