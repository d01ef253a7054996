package dev.perdura.server.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.perdura.server.Storage;
import dev.perdura.server.store.ConcurrentUpdateException;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.LeaseLostException;
import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.jdbc.JdbcStore;
import dev.perdura.server.store.jdbc.Session;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.postgresql.util.PSQLException;

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

  /**
   * At most this many transactions write the shards' commits at once (and never more than half the
   * pool): more commits arriving meanwhile are written together by the next. Four measured best on
   * two cores (docs/performance.md, "The shards' commits written together on PostgreSQL").
   */
  private static final int COMMIT_WRITERS = 4;

  private PostgresStore(HikariDataSource pool, String description, int maxConnections) {
    super(Math.max(1, Math.min(COMMIT_WRITERS, maxConnections / 2)));
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
      return new PostgresStore(new HikariDataSource(config), database.describe(), database.maxConnections());
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

  /**
   * One round trip: the commit goes as one statement ({@link PostgresCommit}), its checks inside;
   * purges and legacy rows go statement by statement.
   */
  @Override
  protected void writeCommit(java.util.List<Lease> leases, java.util.List<ExecutionWrite> writes) {
    if (!PostgresCommit.applies(writes)) {
      super.writeCommit(leases, writes);
      return;
    }
    try (Connection connection = pool.getConnection();
        PreparedStatement statement = PostgresCommit.prepare(connection, leases, writes, this::nextRunSeq)) {
      statement.execute();
    } catch (SQLException e) {
      String reason = e instanceof PSQLException p && p.getServerErrorMessage() != null
          ? p.getServerErrorMessage().getMessage() : e.getMessage();
      if (PostgresCommit.LEASE_LOST.equals(e.getSQLState())) {
        throw new LeaseLostException(reason);
      }
      if (PostgresCommit.VERSION_MISMATCH.equals(e.getSQLState())) {
        throw new ConcurrentUpdateException(reason);
      }
      throw new StoreException("cannot commit " + writes.size() + " changes: " + e.getMessage(), e);
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
  protected java.util.List<String> migrations() {
    return java.util.List.of("V1__init.sql", "V2__cluster_leases.sql", "V3__history_batches.sql",
        "V4__tasks_and_timers_in_state.sql", "V5__history_by_run_seq.sql", "V6__commit_checks.sql");
  }

  // ---- leases: which server of several is active ----------------------------------------------

  /** The database's clock in epoch milliseconds: nodes' own clocks never decide who holds a lease. */
  private static final String NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

  /** A lease row as read: who holds it (or held it last) and whether that holding is still valid. */
  public record LeaseRow(Lease lease, boolean live) {}

  /** Every lease row whose name starts with {@code prefix}. */
  public java.util.List<LeaseRow> leases(String prefix) {
    return read("read leases " + prefix + "*", c -> {
      PreparedStatement q = c.prepared("SELECT name, owner, address, version, expires_at >= " + NOW
          + " FROM cluster_leases WHERE name LIKE ?");
      q.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
      java.util.List<LeaseRow> rows = new java.util.ArrayList<>();
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          rows.add(new LeaseRow(new Lease(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)),
              rs.getBoolean(5)));
        }
      }
      return rows;
    });
  }

  /** Deletes the rows of leases that expired more than {@code olderThanMillis} ago (servers long gone). */
  public int deleteExpiredLeases(String prefix, long olderThanMillis) {
    return write("delete expired leases " + prefix + "*", c -> {
      PreparedStatement q = c.prepared("DELETE FROM cluster_leases WHERE name LIKE ? AND expires_at < " + NOW + " - ?");
      q.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
      q.setLong(2, olderThanMillis);
      return q.executeUpdate();
    });
  }

  /** Who holds a lease now, if anyone's lease has not expired. */
  public Optional<Lease> leaseHolder(String name) {
    return read("read lease " + name, c -> {
      PreparedStatement q = c.prepared("SELECT owner, address, version FROM cluster_leases"
          + " WHERE name = ? AND expires_at >= " + NOW);
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? Optional.of(new Lease(name, rs.getString(1), rs.getString(2), rs.getLong(3)))
            : Optional.empty();
      }
    });
  }

  /**
   * Takes the lease when nobody holds it or its holder's lease expired; each taking raises its
   * version, which fences out the previous holder's commits.
   */
  public Optional<Lease> tryAcquireLease(String name, String owner, String address, long durationMillis) {
    return write("acquire lease " + name, c -> {
      PreparedStatement q = c.prepared("INSERT INTO cluster_leases (name, owner, address, version, expires_at)"
          + " VALUES (?, ?, ?, 1, " + NOW + " + ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
          + " address = excluded.address, version = cluster_leases.version + 1, expires_at = excluded.expires_at"
          + " WHERE cluster_leases.expires_at < " + NOW + " RETURNING version");
      q.setString(1, name);
      q.setString(2, owner);
      q.setString(3, address);
      q.setLong(4, durationMillis);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? Optional.of(new Lease(name, owner, address, rs.getLong(1))) : Optional.empty();
      }
    });
  }

  /** Extends a held lease; false when it was taken over meanwhile (then it is lost). */
  public boolean renewLease(Lease lease, long durationMillis) {
    return write("renew lease " + lease.name(), c -> {
      PreparedStatement q = c.prepared("UPDATE cluster_leases SET expires_at = " + NOW + " + ?"
          + " WHERE name = ? AND owner = ? AND version = ?");
      q.setLong(1, durationMillis);
      q.setString(2, lease.name());
      q.setString(3, lease.owner());
      q.setLong(4, lease.version());
      return q.executeUpdate() == 1;
    });
  }

  /** Gives a held lease up at once, so another server need not wait for it to expire. */
  public void releaseLease(Lease lease) {
    write("release lease " + lease.name(), c -> {
      PreparedStatement q = c.prepared("UPDATE cluster_leases SET expires_at = 0"
          + " WHERE name = ? AND owner = ? AND version = ?");
      q.setString(1, lease.name());
      q.setString(2, lease.owner());
      q.setLong(3, lease.version());
      q.executeUpdate();
      return null;
    });
  }

  /**
   * The lease rows are read {@code FOR SHARE}, all in one statement: a takeover (an update of such
   * a row) waits for commits in flight, and every later commit of the former holder fails. They are
   * locked in name order, so two groups sharing leases cannot wait for each other through a renewal
   * queued between them.
   */
  @Override
  protected void checkFences(Session c, java.util.List<Lease> required) throws SQLException {
    PreparedStatement q = c.prepared("SELECT name, owner, version FROM cluster_leases WHERE name = ANY (?) ORDER BY name FOR SHARE");
    q.setArray(1, c.connection().createArrayOf("text", required.stream().map(Lease::name).toArray()));
    record Holder(String owner, long version) {}
    java.util.Map<String, Holder> held = new java.util.HashMap<>();
    try (ResultSet rs = q.executeQuery()) {
      while (rs.next()) {
        held.put(rs.getString(1), new Holder(rs.getString(2), rs.getLong(3)));
      }
    }
    for (Lease lease : required) {
      Holder row = held.get(lease.name());
      if (row == null || !row.owner().equals(lease.owner()) || row.version() != lease.version()) {
        throw new LeaseLostException("this server no longer holds lease " + lease.name()
            + " (version " + lease.version() + "); another server took over");
      }
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
