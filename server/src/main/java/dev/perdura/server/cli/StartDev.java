package dev.perdura.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code perdura server start-dev}: a durable server on one machine, SQLite underneath. */
@Command(
    name = "start-dev",
    mixinStandardHelpOptions = true,
    description = "Start a durable Perdura server on this machine (embedded SQLite, no other install).")
final class StartDev implements Callable<Integer> {

  @Option(names = "--ip", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String ip;

  @Option(names = "--port", defaultValue = "7233", description = "gRPC port (default: ${DEFAULT-VALUE}).")
  int port;

  @ArgGroup(exclusive = true)
  Storage storage = new Storage();

  /** Where the data lives: a file (the default) or memory. */
  static final class Storage {
    @Option(names = "--db-file", paramLabel = "PATH", description = "SQLite file holding all data (default: .perdura/perdura.db).")
    Path dbFile;

    @Option(names = "--in-memory", description = "Keep everything in memory; lost when the server stops.")
    boolean inMemory;
  }

  @Option(names = "--namespace", paramLabel = "NAME", description = "Namespace to create at start (repeatable; 'default' always exists).")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--log-level", defaultValue = "info", description = "Log level: error, warn, info, debug, trace (default: ${DEFAULT-VALUE}).")
  String logLevel;

  /** The server configuration these options describe. */
  ServerConfig config() {
    Path file = storage.inMemory ? null : (storage.dbFile != null ? storage.dbFile : Path.of(".perdura", "perdura.db"));
    return new ServerConfig(ip, port, file, namespaces);
  }

  @Override
  public Integer call() throws InterruptedException {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.toLevel(logLevel, Level.INFO));
    ServerConfig config;
    PerduraServer server;
    try {
      config = config();
      server = PerduraServer.start(config);
    } catch (RuntimeException e) {
      System.err.println("perdura: cannot start the server: " + e.getMessage());
      if ("debug".equalsIgnoreCase(logLevel) || "trace".equalsIgnoreCase(logLevel)) {
        e.printStackTrace();
      }
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("perdura-shutdown").unstarted(() -> {
      server.close();
      System.out.println("Perdura server stopped");
    }));
    System.out.println("Perdura server listening on " + server.target());
    System.out.println(config.dbFile() == null
        ? "data: in memory (lost at exit)"
        : "data: " + config.dbFile().toAbsolutePath() + " (SQLite)");
    server.awaitTermination();
    return 0;
  }
}
