package dev.perdura.server;

import java.time.Duration;

/**
 * How a server takes part when several servers share one PostgreSQL database (see
 * {@link Storage.Postgres}): they split the history shards and task queues among them by leases in
 * the database, and take over the shards of one whose leases expire. Ignored on SQLite and in
 * memory.
 *
 * @param advertisedAddress {@code host:port} at which the other servers reach this one; null means
 *     the bound address, which must then not be a wildcard such as {@code 0.0.0.0}
 * @param leaseDuration how long a server's leases last without renewal: the longest the shards of a
 *     crashed server wait for another owner (renewed every fifth of it)
 */
public record ClusterOptions(String advertisedAddress, Duration leaseDuration) {
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);
  public static final ClusterOptions DEFAULT = new ClusterOptions(null, DEFAULT_LEASE);

  public ClusterOptions {
    if (leaseDuration == null || leaseDuration.compareTo(Duration.ofMillis(500)) < 0) {
      throw new IllegalArgumentException("leaseDuration must be at least 500 ms, was " + leaseDuration);
    }
    if (advertisedAddress != null && !advertisedAddress.matches("[^:\\s]+:\\d{1,5}")) {
      throw new IllegalArgumentException("advertisedAddress must be host:port, was '" + advertisedAddress + "'");
    }
  }
}
