package dev.perdura.server.cli;

import dev.perdura.server.Storage;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code perdura server start-dev}: a durable server on one machine, SQLite underneath. */
@Command(
    name = "start-dev",
    mixinStandardHelpOptions = true,
    description = "Start a durable Perdura server on this machine (embedded SQLite, no other install).")
final class StartDev extends ServerCommand {

  @ArgGroup(exclusive = true)
  Location location = new Location();

  /** Where the data lives: a file (the default) or memory. */
  static final class Location {
    @Option(names = "--db-file", paramLabel = "PATH", description = "SQLite file holding all data (default: .perdura/perdura.db).")
    Path dbFile;

    @Option(names = "--in-memory", description = "Keep everything in memory; lost when the server stops.")
    boolean inMemory;
  }

  @Override
  Storage storage() {
    if (location.inMemory) {
      return Storage.inMemory();
    }
    return Storage.sqlite(location.dbFile != null ? location.dbFile : Path.of(".perdura", "perdura.db"));
  }
}
