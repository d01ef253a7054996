package dev.perdura.metrics;

import java.util.Map;

/** The meter of a worker that was given none. */
final class NoopMetricMeter implements MetricMeter {
  static final NoopMetricMeter INSTANCE = new NoopMetricMeter();

  private NoopMetricMeter() {}

  @Override
  public Counter counter(String name, String description) {
    return amount -> {};
  }

  @Override
  public Histogram histogram(String name, String description) {
    return value -> {};
  }

  @Override
  public Gauge gauge(String name, String description) {
    return value -> {};
  }

  @Override
  public MetricMeter withTags(Map<String, String> tags) {
    return this;
  }
}
