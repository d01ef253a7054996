package dev.perdura.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link MetricMeter} that records into a Micrometer registry. Micrometer is an optional dependency of
 * the SDK: add micrometer-core to use this class.
 *
 * <pre>{@code
 * WorkerOptions.DEFAULTS.withMetricMeter(MicrometerMetricMeter.of(registry))
 * }</pre>
 */
public final class MicrometerMetricMeter implements MetricMeter {
  private final MeterRegistry registry;
  private final Tags tags;
  /** Micrometer gauges observe an object; one holder per gauge identity. */
  private final Map<String, AtomicReference<Double>> gauges;

  private MicrometerMetricMeter(MeterRegistry registry, Tags tags, Map<String, AtomicReference<Double>> gauges) {
    this.registry = registry;
    this.tags = tags;
    this.gauges = gauges;
  }

  public static MetricMeter of(MeterRegistry registry) {
    return new MicrometerMetricMeter(java.util.Objects.requireNonNull(registry, "registry"), Tags.empty(),
        new ConcurrentHashMap<>());
  }

  @Override
  public Counter counter(String name, String description) {
    io.micrometer.core.instrument.Counter counter = io.micrometer.core.instrument.Counter.builder(name)
        .description(description).tags(tags).register(registry);
    return amount -> {
      if (amount < 0) {
        throw new IllegalArgumentException("a counter only grows; got " + amount);
      }
      counter.increment(amount);
    };
  }

  @Override
  public Histogram histogram(String name, String description) {
    DistributionSummary summary = DistributionSummary.builder(name).description(description).tags(tags)
        .register(registry);
    return summary::record;
  }

  @Override
  public Gauge gauge(String name, String description) {
    List<String> key = new ArrayList<>();
    key.add(name);
    tags.forEach(tag -> key.add(tag.getKey() + "=" + tag.getValue()));
    AtomicReference<Double> value = gauges.computeIfAbsent(String.join(",", key), k -> {
      AtomicReference<Double> holder = new AtomicReference<>(0.0);
      io.micrometer.core.instrument.Gauge.builder(name, holder, AtomicReference::get)
          .description(description).tags(tags).register(registry);
      return holder;
    });
    return value::set;
  }

  @Override
  public MetricMeter withTags(Map<String, String> more) {
    Tags combined = tags;
    for (Map.Entry<String, String> e : more.entrySet()) {
      combined = combined.and(Tag.of(e.getKey(), e.getValue()));
    }
    return new MicrometerMetricMeter(registry, combined, gauges);
  }
}
