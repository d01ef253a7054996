package dev.perdura.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;

/**
 * How to run a Perdura server.
 *
 * @param host address to bind, e.g. {@code 127.0.0.1}
 * @param port TCP port; 0 picks a free one (see {@link PerduraServer#port()})
 * @param storage where the data lives (see {@link Storage})
 * @param namespaces namespaces to create at start besides {@code default}
 * @param retentionSweepInterval how often closed workflows past their namespace's retention are
 *     deleted
 * @param cluster how this server shares a PostgreSQL database with others
 * @param metricsPort where to serve Prometheus metrics ({@code GET /metrics} on {@code host}); 0
 *     picks a free port; empty serves none (the server still keeps them)
 */
public record ServerConfig(String host, int port, Storage storage, List<String> namespaces,
    Duration retentionSweepInterval, ClusterOptions cluster, OptionalInt metricsPort) {
  public static final Duration DEFAULT_RETENTION_SWEEP_INTERVAL = Duration.ofMinutes(1);

  /** A server on a SQLite file ({@code null}: in memory). */
  public ServerConfig(String host, int port, Path dbFile, List<String> namespaces) {
    this(host, port, dbFile, namespaces, DEFAULT_RETENTION_SWEEP_INTERVAL);
  }

  /** A server on a SQLite file ({@code null}: in memory). */
  public ServerConfig(String host, int port, Path dbFile, List<String> namespaces, Duration retentionSweepInterval) {
    this(host, port, dbFile == null ? Storage.inMemory() : Storage.sqlite(dbFile), namespaces,
        retentionSweepInterval, ClusterOptions.DEFAULT, OptionalInt.empty());
  }

  public ServerConfig(String host, int port, Storage storage, List<String> namespaces) {
    this(host, port, storage, namespaces, DEFAULT_RETENTION_SWEEP_INTERVAL, ClusterOptions.DEFAULT,
        OptionalInt.empty());
  }

  /** The same configuration with other cluster options. */
  public ServerConfig withCluster(ClusterOptions options) {
    return new ServerConfig(host, port, storage, namespaces, retentionSweepInterval, options, metricsPort);
  }

  /** The same configuration, serving metrics on {@code port} (0: a free one). */
  public ServerConfig withMetricsPort(int port) {
    return new ServerConfig(host, port(), storage, namespaces, retentionSweepInterval, cluster, OptionalInt.of(port));
  }

  /** The SQLite file, or null when the data is in memory or in PostgreSQL. */
  public Path dbFile() {
    return storage instanceof Storage.SqliteFile f ? f.file() : null;
  }

  public ServerConfig {
    if (retentionSweepInterval == null || retentionSweepInterval.isNegative() || retentionSweepInterval.isZero()) {
      throw new IllegalArgumentException("retentionSweepInterval must be positive, was " + retentionSweepInterval);
    }
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, was " + port);
    }
    java.util.Objects.requireNonNull(storage, "storage");
    java.util.Objects.requireNonNull(cluster, "cluster");
    java.util.Objects.requireNonNull(metricsPort, "metricsPort");
    if (metricsPort.isPresent() && (metricsPort.getAsInt() < 0 || metricsPort.getAsInt() > 65535)) {
      throw new IllegalArgumentException("metricsPort must be in 0..65535, was " + metricsPort.getAsInt());
    }
    namespaces = List.copyOf(namespaces);
  }
}
