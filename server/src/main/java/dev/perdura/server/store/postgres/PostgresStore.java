package dev.perdura.server.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.perdura.server.Storage;
import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.jdbc.JdbcStore;
import dev.perdura.server.store.jdbc.Session;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

/**
 * The store on PostgreSQL, for running several server nodes on one database. Connections come
 * from a bounded pool; every commit is one transaction whose row versions are checked, so two
 * nodes can never both apply a change to the same run.
 *
 * <pre>{@code
 * var database = (Storage.Postgres) Storage.postgres("jdbc:postgresql://db:5432/perdura", "perdura", password);
 * Store store = PostgresStore.open(database);
 * store.migrate();
 * }</pre>
 */
public final class PostgresStore extends JdbcStore {
  /** Any fixed number: the advisory lock that serializes schema migrations across nodes. */
  private static final long SCHEMA_LOCK = 0x7065726475726131L;

  private final HikariDataSource pool;
  private final String description;

  private PostgresStore(HikariDataSource pool, String description) {
    this.pool = pool;
    this.description = description;
  }

  /**
   * Connects to the database; fails fast, with the driver's reason, when it cannot be reached or
   * the credentials are refused.
   */
  public static PostgresStore open(Storage.Postgres database) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(database.jdbcUrl());
    if (database.user() != null) {
      config.setUsername(database.user());
    }
    if (database.password() != null) {
      config.setPassword(database.password());
    }
    config.setPoolName("perdura-postgres");
    config.setMaximumPoolSize(database.maxConnections());
    config.setMinimumIdle(Math.min(2, database.maxConnections()));
    config.setConnectionTimeout(TimeUnit.SECONDS.toMillis(30));
    config.setInitializationFailTimeout(TimeUnit.SECONDS.toMillis(10));
    try {
      return new PostgresStore(new HikariDataSource(config), database.describe());
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new StoreException(
          "cannot connect to " + database.describe() + ": " + cause.getMessage(), e);
    }
  }

  @Override
  protected <T> T read(String what, Body<T> body) {
    try (Connection connection = pool.getConnection()) {
      Session session = new Session(connection);
      try {
        return body.run(session);
      } finally {
        session.closeStatements();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected <T> T write(String what, Body<T> body) {
    try (Connection connection = pool.getConnection()) {
      Session session = new Session(connection);
      try {
        return inTransaction(session, body);
      } finally {
        session.closeStatements();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected String dialect() {
    return "postgres";
  }

  @Override
  protected void lockSchema(Session c) throws SQLException {
    try (Statement s = c.connection().createStatement()) {
      s.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
    }
  }

  @Override
  public void close() {
    pool.close();
  }

  @Override
  public String toString() {
    return description;
  }
}
