package dev.perdura.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.Storage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line parses into the right server configuration, without starting a server. */
class PerduraCliTest {

  private static ServerCommand parse(String... args) {
    CommandLine cli = new CommandLine(new PerduraCli());
    CommandLine.ParseResult result = cli.parseArgs(args);
    return (ServerCommand) result.subcommand().subcommand().commandSpec().userObject();
  }

  private static String failure(String... args) {
    StringWriter err = new StringWriter();
    int code = new CommandLine(new PerduraCli()).setErr(new PrintWriter(err)).execute(args);
    assertThat(code).isEqualTo(2);
    return err.toString();
  }

  @Test
  void defaultsAreADurableFileOnTheLocalPort() {
    var config = parse("server", "start-dev").config();
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(7233);
    assertThat(config.dbFile()).isEqualTo(Path.of(".perdura", "perdura.db"));
    assertThat(config.namespaces()).isEmpty();
  }

  @Test
  void optionsAreApplied() {
    var config = parse("server", "start-dev", "--ip", "0.0.0.0", "--port", "9000", "--db-file", "x/y.db",
        "--namespace", "a", "--namespace", "b").config();
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.port()).isEqualTo(9000);
    assertThat(config.dbFile()).isEqualTo(Path.of("x/y.db"));
    assertThat(config.namespaces()).containsExactly("a", "b");
  }

  @Test
  void metricsAreServedOnlyWhenAPortIsGiven() {
    assertThat(parse("server", "start-dev").config().metricsPort()).isEmpty();
    assertThat(parse("server", "start-dev", "--metrics-port", "9464").config().metricsPort()).hasValue(9464);
    assertThatThrownBy(() -> parse("server", "start-dev", "--metrics-port", "70000").config())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metricsPort must be in 0..65535");
    assertThat(failure("server", "start-dev", "--metrics-port", "many")).contains("--metrics-port");
  }

  @Test
  void inMemoryHasNoFile() {
    assertThat(parse("server", "start-dev", "--in-memory").config().dbFile()).isNull();
  }

  @Test
  void inMemoryAndDbFileExcludeEachOther() {
    assertThat(failure("server", "start-dev", "--in-memory", "--db-file", "a.db")).contains("mutually exclusive");
  }

  @Test
  void startOnPostgresNamesTheDatabaseAndUser() {
    var config = parse("server", "start", "--postgres-url", "jdbc:postgresql://db:5432/perdura",
        "--postgres-user", "perdura", "--postgres-max-connections", "4", "--port", "7000").config();
    assertThat(config.storage()).isInstanceOfSatisfying(Storage.Postgres.class, p -> {
      assertThat(p.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/perdura");
      assertThat(p.user()).isEqualTo("perdura");
      assertThat(p.maxConnections()).isEqualTo(4);
    });
    assertThat(config.dbFile()).isNull();
    assertThat(config.port()).isEqualTo(7000);
  }

  @Test
  void clusterOptionsDefaultToTheBoundAddressAndATenSecondLease() {
    var defaults = parse("server", "start", "--postgres-url", "jdbc:postgresql://db/p").config().cluster();
    assertThat(defaults.advertisedAddress()).isNull();
    assertThat(defaults.leaseDuration()).isEqualTo(java.time.Duration.ofSeconds(10));
    var given = parse("server", "start", "--postgres-url", "jdbc:postgresql://db/p",
        "--advertise-address", "10.0.0.5:7233", "--lease-seconds", "2.5").config().cluster();
    assertThat(given.advertisedAddress()).isEqualTo("10.0.0.5:7233");
    assertThat(given.leaseDuration()).isEqualTo(java.time.Duration.ofMillis(2500));
    assertThatThrownBy(() -> parse("server", "start", "--postgres-url", "jdbc:postgresql://db/p",
        "--advertise-address", "no-port").config())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("advertisedAddress must be host:port");
    assertThatThrownBy(() -> parse("server", "start", "--postgres-url", "jdbc:postgresql://db/p",
        "--lease-seconds", "0.1").config())
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--lease-seconds must be at least 0.5");
  }

  @Test
  void startOnAFile() {
    assertThat(parse("server", "start", "--db-file", "d/p.db").config().storage())
        .isEqualTo(Storage.sqlite(Path.of("d/p.db")));
  }

  @Test
  void startNeedsExactlyOneStore() {
    assertThat(failure("server", "start")).contains("--db-file", "--postgres-url");
    assertThat(failure("server", "start", "--db-file", "a.db", "--postgres-url", "jdbc:postgresql://h/d"))
        .contains("mutually exclusive");
    assertThat(failure("server", "start", "--postgres-user", "u")).contains("--postgres-url");
  }

  @Test
  void aUrlOfAnotherDatabaseIsRefusedByName() {
    assertThatThrownBy(() -> parse("server", "start", "--postgres-url", "jdbc:mysql://h/d").config())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:postgresql:");
  }

  @Test
  void helpListsEveryOption() {
    StringWriter out = new StringWriter();
    int code = new CommandLine(new PerduraCli()).setOut(new PrintWriter(out)).execute("server", "start-dev", "--help");
    assertThat(code).isZero();
    assertThat(out.toString()).contains("--ip", "--port", "--db-file", "--in-memory", "--namespace", "--log-level",
        "--metrics-port");
  }
}
