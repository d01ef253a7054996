package dev.perdura.server.cli;

import dev.perdura.server.ClusterOptions;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import java.time.Duration;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code perdura server start}: a server whose store is named explicitly, a SQLite file or a
 * PostgreSQL database. Several servers started on one PostgreSQL database split its history
 * shards and task queues among them, and take over the share of one that goes.
 */
@Command(
    name = "start",
    mixinStandardHelpOptions = true,
    description = {
      "Start a Perdura server on a SQLite file or a PostgreSQL database.",
      "Servers started on one PostgreSQL database form a cluster: they split the history shards and task queues"
          + " among them, route each call to the owner, and take over the shards of one that stops or dies.",
      "The PostgreSQL password is read from the environment variable PERDURA_POSTGRES_PASSWORD."
    })
final class Start extends ServerCommand {
  static final String PASSWORD_VARIABLE = "PERDURA_POSTGRES_PASSWORD";

  @ArgGroup(exclusive = true, multiplicity = "1")
  Location location;

  /** Exactly one store. */
  static final class Location {
    @Option(names = "--db-file", paramLabel = "PATH", required = true, description = "SQLite file holding all data.")
    Path dbFile;

    @ArgGroup(exclusive = false)
    Postgres postgres;
  }

  /** A PostgreSQL database and how to log in. */
  static final class Postgres {
    @Option(names = "--postgres-url", paramLabel = "URL", required = true,
        description = "JDBC URL of the database, e.g. jdbc:postgresql://db:5432/perdura.")
    String url;

    @Option(names = "--postgres-user", paramLabel = "USER", description = "Database user (default: the URL's or the driver's).")
    String user;

    @Option(names = "--postgres-max-connections", paramLabel = "N", defaultValue = "10",
        description = "Connections kept to the database at most (default: ${DEFAULT-VALUE}).")
    int maxConnections;
  }

  @Option(names = "--advertise-address", paramLabel = "HOST:PORT",
      description = "Where the other servers on the same PostgreSQL database reach this one (default: --ip:--port).")
  String advertisedAddress;

  @Option(names = "--lease-seconds", paramLabel = "S", defaultValue = "10",
      description = "How long a server's shard leases last without renewal: the longest a crashed server's shards"
          + " wait for another owner (default: ${DEFAULT-VALUE}).")
  double leaseSeconds;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  ServerConfig config() {
    if (!(leaseSeconds >= 0.5)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--lease-seconds must be at least 0.5, was " + leaseSeconds);
    }
    return super.config().withCluster(
        new ClusterOptions(advertisedAddress, Duration.ofMillis(Math.round(leaseSeconds * 1000))));
  }

  @Override
  Storage storage() {
    if (location.dbFile != null) {
      return Storage.sqlite(location.dbFile);
    }
    Postgres p = location.postgres;
    return new Storage.Postgres(p.url, p.user, System.getenv(PASSWORD_VARIABLE), p.maxConnections);
  }
}
