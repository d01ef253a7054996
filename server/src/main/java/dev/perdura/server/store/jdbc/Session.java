package dev.perdura.server.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * A connection with the prepared statements of the work done on it. A long-lived session keeps
 * its statements for the next use (SQLite: preparing the hot path's statements took as long as
 * running them); a borrowed one closes them when it is released (PostgreSQL: the driver caches
 * the server-side statements per connection itself). Used by one thread at a time.
 */
public final class Session {
  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  public Session(Connection connection) {
    this.connection = connection;
  }

  public Connection connection() {
    return connection;
  }

  /** The statement for a fixed SQL text; owned by the session, so callers do not close it. */
  public PreparedStatement prepared(String sql) throws SQLException {
    PreparedStatement statement = statements.get(sql);
    if (statement == null) {
      statement = connection.prepareStatement(sql);
      statements.put(sql, statement);
    }
    return statement;
  }

  /** Closes the statements prepared so far; the connection stays open. */
  public void closeStatements() throws SQLException {
    SQLException first = null;
    for (PreparedStatement statement : statements.values()) {
      try {
        statement.close();
      } catch (SQLException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    statements.clear();
    if (first != null) {
      throw first;
    }
  }
}
