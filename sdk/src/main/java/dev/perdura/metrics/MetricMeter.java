package dev.perdura.metrics;

import java.util.Map;

/**
 * Creates metrics for user code, such as an activity's own counters. Each metric carries the meter's
 * tags; {@code Activity.metricMeter()} is tagged with the activity's namespace, task queue and type.
 * A worker without a meter uses {@link #noop()}; {@link MicrometerMetricMeter#of} bridges to a Micrometer
 * registry (with micrometer-core, an optional dependency, on the class path).
 *
 * <pre>{@code
 * MetricMeter meter = Activity.metricMeter();
 * MetricMeter.Counter processed = meter.counter("activity_items_processed", "Number of items processed");
 * processed.add(1);
 * }</pre>
 */
public interface MetricMeter {
  Counter counter(String name, String description);

  Histogram histogram(String name, String description);

  Gauge gauge(String name, String description);

  /** A meter whose metrics carry these tags too. */
  MetricMeter withTags(Map<String, String> tags);

  /** A monotonically growing count. */
  interface Counter {
    void add(long amount);
  }

  /** A distribution of recorded values (durations in seconds, sizes, ...). */
  interface Histogram {
    void record(double value);
  }

  /** A value that is set, and goes up and down. */
  interface Gauge {
    void set(double value);
  }

  /** Records nothing. */
  static MetricMeter noop() {
    return NoopMetricMeter.INSTANCE;
  }
}
