package dev.perdura.server.store.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A database laid out as an earlier version of the server left it, for migration tests: the given
 * migrations of one dialect applied and recorded, as {@link JdbcStore#migrate} would have.
 */
final class OldSchema {
  private OldSchema() {}

  /** Applies {@code migrations} (file names under {@code db/<folder>/}, in order) to {@code raw}. */
  static void apply(Connection raw, String folder, List<String> migrations) throws SQLException, IOException {
    try (Statement s = raw.createStatement()) {
      s.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
      for (int i = 0; i < migrations.size(); i++) {
        String name = migrations.get(i);
        for (String statement : JdbcStore.statements(resource("/db/" + folder + "/" + name))) {
          if (!statement.isBlank()) {
            s.execute(statement);
          }
        }
        s.execute("INSERT INTO schema_version VALUES (" + (i + 1) + ", '" + name + "', 0)");
      }
    }
  }

  private static String resource(String path) throws IOException {
    try (InputStream in = OldSchema.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IOException(path + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
