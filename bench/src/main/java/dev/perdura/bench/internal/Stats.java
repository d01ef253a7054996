package dev.perdura.bench.internal;

import java.util.Arrays;
import java.util.Collection;

/** Summary statistics of a sample of durations, in milliseconds. */
public record Stats(int count, double minMs, double meanMs, double p50Ms, double p90Ms, double p99Ms, double maxMs) {

  /** Statistics of durations given in nanoseconds. */
  public static Stats ofNanos(long[] nanos) {
    double[] ms = new double[nanos.length];
    for (int i = 0; i < nanos.length; i++) {
      ms[i] = nanos[i] / 1e6;
    }
    return ofMillis(ms);
  }

  /** Statistics of durations given in milliseconds. */
  public static Stats ofMillis(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (double v : sorted) {
      sum += v;
    }
    return new Stats(sorted.length, sorted[0], sum / sorted.length, percentile(sorted, 50), percentile(sorted, 90),
        percentile(sorted, 99), sorted[sorted.length - 1]);
  }

  /** Nearest-rank percentile of sorted values: the smallest value with at least {@code p}% of the sample at or below it. */
  static double percentile(double[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The median of some values (the mean of the two middle ones for an even count). */
  public static double median(Collection<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no values");
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
