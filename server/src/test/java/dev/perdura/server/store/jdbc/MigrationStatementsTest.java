package dev.perdura.server.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MigrationStatementsTest {
  @Test
  void aSemicolonInACommentDoesNotEndAStatement() {
    String migration = """
        -- One table; then its index.
        CREATE TABLE a (x INTEGER); -- done; next
        CREATE INDEX a_x ON a (x)
        """;
    assertThat(JdbcStore.statements(migration)).extracting(String::strip).containsExactly(
        "-- One table; then its index.\nCREATE TABLE a (x INTEGER)",
        "-- done; next\nCREATE INDEX a_x ON a (x)");
  }

  @Test
  void splitsAtSemicolonsOutsideDollarQuotedBodies() {
    String migration = """
        CREATE TABLE a (x INTEGER);
        CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM 1;
          PERFORM 2;
        END
        $$;

        ALTER TABLE a ADD COLUMN y INTEGER
        """;
    assertThat(JdbcStore.statements(migration)).extracting(String::strip).containsExactly(
        "CREATE TABLE a (x INTEGER)",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  PERFORM 2;\nEND\n$$",
        "ALTER TABLE a ADD COLUMN y INTEGER");
  }
}
