package dev.perdura.common;

import java.nio.charset.StandardCharsets;

/**
 * How a task is ordered against others backlogged in its queue. Lower {@code priorityKey} runs first
 * (1 is the highest; 0 means the default, 3). Within one priority, tasks of different
 * {@code fairnessKey}s share dispatch in proportion to their {@code fairnessWeight}, so that no key
 * starves the others.
 *
 * @param priorityKey 0 (default) or 1..5
 * @param fairnessKey at most 64 bytes of UTF-8; empty means no key
 * @param fairnessWeight 0 (default, which counts as 1.0) or a positive weight
 */
public record Priority(int priorityKey, String fairnessKey, float fairnessWeight) {
  /** No priority set: the default level, no fairness key. */
  public static final Priority DEFAULT = new Priority(0, "", 0f);

  public static final int MAX_PRIORITY_KEY = 5;
  public static final int MAX_FAIRNESS_KEY_BYTES = 64;

  public Priority {
    if (priorityKey < 0 || priorityKey > MAX_PRIORITY_KEY) {
      throw new IllegalArgumentException("priorityKey must be in 0.." + MAX_PRIORITY_KEY + ", was " + priorityKey);
    }
    fairnessKey = fairnessKey == null ? "" : fairnessKey;
    if (fairnessKey.getBytes(StandardCharsets.UTF_8).length > MAX_FAIRNESS_KEY_BYTES) {
      throw new IllegalArgumentException("fairnessKey must be at most " + MAX_FAIRNESS_KEY_BYTES + " bytes");
    }
    if (!(fairnessWeight >= 0) || Float.isInfinite(fairnessWeight)) {
      throw new IllegalArgumentException("fairnessWeight must be a finite number >= 0, was " + fairnessWeight);
    }
  }

  public static Priority ofKey(int priorityKey) {
    return new Priority(priorityKey, "", 0f);
  }

  public Priority withPriorityKey(int key) {
    return new Priority(key, fairnessKey, fairnessWeight);
  }

  public Priority withFairness(String key, float weight) {
    return new Priority(priorityKey, key, weight);
  }
}
