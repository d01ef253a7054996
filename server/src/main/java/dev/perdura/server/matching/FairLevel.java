package dev.perdura.server.matching;

import dev.perdura.server.store.TaskRow;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The backlog of one priority level of a task queue, ordered by stride scheduling over fairness
 * keys (see {@link TaskQueueDispatcher} for the rules). Not thread-safe: the dispatcher guards it
 * with its lock.
 */
final class FairLevel {
  /** The pass distance between consecutive tasks of a key with weight 1. */
  private static final double STRIDE_AT_WEIGHT_ONE = 1000.0;

  private static final float MIN_WEIGHT = 0.001f;
  private static final float MAX_WEIGHT = 1000f;

  /** Key table size below which idle keys are not worth sweeping. */
  private static final int MIN_SWEEP_THRESHOLD = 64;

  /** How many keys a sweep leaves at most, unless more than that have tasks in the backlog. */
  static final int MAX_TRACKED_KEYS = 4096;

  private static final Comparator<Backlogged> DISPATCH_ORDER =
      Comparator.comparingDouble(Backlogged::pass).thenComparingLong(Backlogged::sequence);

  /** A task in the backlog with the place stride scheduling gave it. */
  record Backlogged(TaskRow task, FairnessKey key, double pass, double stride, long sequence) {}

  /** The scheduling state of one fairness key. */
  static final class FairnessKey {
    private final String name;
    private final NavigableSet<Backlogged> backlog = new TreeSet<>(DISPATCH_ORDER);

    /** The key's newest task: the next task is placed one stride after it. */
    private Backlogged newest;

    /** The key's most recently dispatched task, where {@link #newest} falls back when emptied. */
    private Backlogged lastDispatched;

    private FairnessKey(String name) {
      this.name = name;
    }

    /** Whether the key's next task (at its last weight) would be placed at the base pass. */
    private boolean nextPassAtOrBelow(double basePass) {
      return newest.pass() + newest.stride() <= basePass;
    }
  }

  private final NavigableSet<Backlogged> order = new TreeSet<>(DISPATCH_ORDER);
  private final Map<String, FairnessKey> keys = new HashMap<>();
  private double basePass;
  private int sweepThreshold = MIN_SWEEP_THRESHOLD;

  boolean isEmpty() {
    return order.isEmpty();
  }

  int size() {
    return order.size();
  }

  /** Places a task after its key's newest task, but never before the level's base pass. */
  Backlogged enqueue(TaskRow task, long sequence) {
    String name = task.fairnessKey() == null ? "" : task.fairnessKey();
    double stride = STRIDE_AT_WEIGHT_ONE / effectiveWeight(task.fairnessWeight());
    FairnessKey key = keys.get(name);
    if (key == null) {
      sweepIfLarge();
      key = new FairnessKey(name);
      keys.put(name, key);
    }
    // A key without history starts at the base pass: level with the others, not ahead of them.
    double pass = key.newest == null ? basePass : Math.max(basePass, key.newest.pass() + stride);
    Backlogged entry = new Backlogged(task, key, pass, stride, sequence);
    key.backlog.add(entry);
    key.newest = entry;
    order.add(entry);
    return entry;
  }

  /** Removes and returns the task to dispatch next, or null when the level is empty. */
  Backlogged dispatchNext() {
    Backlogged next = order.pollFirst();
    if (next == null) {
      return null;
    }
    FairnessKey key = next.key();
    key.backlog.remove(next);
    key.lastDispatched = next;
    // Keys that arrive later start here, so they cannot claim the passes already served.
    basePass = next.pass();
    return next;
  }

  /** Drops a task that will never be dispatched. */
  void remove(Backlogged entry) {
    if (!order.remove(entry)) {
      return;
    }
    FairnessKey key = entry.key();
    key.backlog.remove(entry);
    if (key.newest != entry) {
      return;
    }
    // The key's next task should follow its newest remaining one; charging the key for the
    // passes of withdrawn tasks would hold it back behind the other keys for no service.
    key.newest = key.backlog.isEmpty() ? key.lastDispatched : key.backlog.last();
    if (key.newest == null) {
      keys.remove(key.name);
    }
  }

  /**
   * Forgets idle keys so that a queue seeing many short-lived keys (say one per workflow) does not
   * grow without bound. Keys whose history no longer affects placement (their next task would land
   * on the base pass anyway) go first. If idle keys still number more than {@link
   * #MAX_TRACKED_KEYS}, those served longest ago are forgotten too: such a key's next task then
   * starts at the base pass, at most one stride earlier than it should. Runs when the table has
   * doubled since the last sweep, which keeps the cost amortised constant per new key.
   */
  private void sweepIfLarge() {
    if (keys.size() < sweepThreshold) {
      return;
    }
    keys.values().removeIf(key -> key.backlog.isEmpty() && key.nextPassAtOrBelow(basePass));
    if (keys.size() >= MAX_TRACKED_KEYS) {
      int excess = keys.size() - MAX_TRACKED_KEYS / 2;
      keys.values().stream()
          .filter(key -> key.backlog.isEmpty())
          .sorted(Comparator.comparingDouble(key -> key.newest.pass()))
          .limit(excess)
          .toList()
          .forEach(key -> keys.remove(key.name));
    }
    sweepThreshold = Math.max(MIN_SWEEP_THRESHOLD, 2 * keys.size());
  }

  /** Unset or non-positive weights mean 1; extremes are clamped so strides stay finite. */
  static float effectiveWeight(float weight) {
    if (!(weight > 0)) {
      return 1f;
    }
    return Math.clamp(weight, MIN_WEIGHT, MAX_WEIGHT);
  }

  /** Number of fairness keys with scheduling state; for tests of the sweep. */
  int trackedKeys() {
    return keys.size();
  }
}
