package dev.perdura.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line parses into the right server configuration, without starting a server. */
class PerduraCliTest {

  private static StartDev parse(String... args) {
    CommandLine cli = new CommandLine(new PerduraCli());
    CommandLine.ParseResult result = cli.parseArgs(args);
    return (StartDev) result.subcommand().subcommand().commandSpec().userObject();
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
  void inMemoryHasNoFile() {
    assertThat(parse("server", "start-dev", "--in-memory").config().dbFile()).isNull();
  }

  @Test
  void inMemoryAndDbFileExcludeEachOther() {
    StringWriter err = new StringWriter();
    int code = new CommandLine(new PerduraCli()).setErr(new PrintWriter(err))
        .execute("server", "start-dev", "--in-memory", "--db-file", "a.db");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("mutually exclusive");
  }

  @Test
  void helpListsEveryOption() {
    StringWriter out = new StringWriter();
    int code = new CommandLine(new PerduraCli()).setOut(new PrintWriter(out)).execute("server", "start-dev", "--help");
    assertThat(code).isZero();
    assertThat(out.toString()).contains("--ip", "--port", "--db-file", "--in-memory", "--namespace", "--log-level");
  }
}
