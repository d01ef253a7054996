package dev.perdura.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** What {@code server start} and {@code server start-dev} share: the options and the run. */
abstract class ServerCommand implements Callable<Integer> {

  @Option(names = "--ip", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String ip;

  @Option(names = "--port", defaultValue = "7233", description = "gRPC port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--namespace", paramLabel = "NAME", description = "Namespace to create at start (repeatable; 'default' always exists).")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://IP:PORT/metrics (off unless given; 0 picks a free port).")
  Integer metricsPort;

  @Option(names = "--log-level", defaultValue = "info", description = "Log level: error, warn, info, debug, trace (default: ${DEFAULT-VALUE}).")
  String logLevel;

  /** Where the data lives, from this command's options. */
  abstract Storage storage();

  /** The server configuration these options describe. */
  ServerConfig config() {
    ServerConfig config = new ServerConfig(ip, port, storage(), namespaces);
    return metricsPort == null ? config : config.withMetricsPort(metricsPort);
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
    System.out.println("data: " + config.storage().describe());
    server.metricsPort().ifPresent(p -> System.out.println("metrics: http://" + config.host() + ":" + p + "/metrics"));
    server.awaitTermination();
    return 0;
  }
}
