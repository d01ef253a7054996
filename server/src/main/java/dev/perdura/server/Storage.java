package dev.perdura.server;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a server keeps its data: a SQLite file (the embedded default), memory (tests, demos), or a
 * PostgreSQL database (several server nodes on one database).
 *
 * <pre>{@code
 * Storage.sqlite(Path.of(".perdura/perdura.db"));
 * Storage.postgres("jdbc:postgresql://db:5432/perdura", "perdura", System.getenv("PGPASSWORD"));
 * }</pre>
 */
public sealed interface Storage {

  /** One SQLite file, created with its directories when missing. */
  record SqliteFile(Path file) implements Storage {
    public SqliteFile {
      Objects.requireNonNull(file, "file");
    }
  }

  /** Nothing kept: everything is lost when the server stops. */
  record InMemory() implements Storage {}

  /**
   * A PostgreSQL database.
   *
   * @param jdbcUrl {@code jdbc:postgresql://host:port/database}
   * @param user the database user, or null when the URL names it
   * @param password the password, or null when the URL carries it or none is needed
   * @param maxConnections connections this server keeps to the database at most
   */
  record Postgres(String jdbcUrl, String user, String password, int maxConnections) implements Storage {
    public static final int DEFAULT_MAX_CONNECTIONS = 10;

    public Postgres {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException("a PostgreSQL URL starts with jdbc:postgresql:, was " + jdbcUrl);
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
      }
    }

    @Override
    public String toString() {
      return "Postgres[" + describe() + ", user=" + user + "]";
    }
  }

  static Storage sqlite(Path file) {
    return new SqliteFile(file);
  }

  static Storage inMemory() {
    return new InMemory();
  }

  static Storage postgres(String jdbcUrl, String user, String password) {
    return new Postgres(jdbcUrl, user, password, Postgres.DEFAULT_MAX_CONNECTIONS);
  }

  /** How the data is described in logs: never with a password. */
  default String describe() {
    return switch (this) {
      case SqliteFile f -> f.file().toAbsolutePath() + " (SQLite)";
      case InMemory m -> "in memory (lost at exit)";
      case Postgres p -> p.jdbcUrl().replaceAll("\\?.*", "?…") + " (PostgreSQL)";
    };
  }
}
