package dev.perdura.server;

import dev.perdura.server.frontend.Namespaces;
import dev.perdura.server.frontend.WorkflowServiceFrontend;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Perdura server: the Temporal WorkflowService over gRPC, backed by a durable store.
 *
 * <pre>{@code
 * try (PerduraServer server = PerduraServer.start(
 *     new ServerConfig("127.0.0.1", 0, Path.of("data/perdura.db"), List.of()))) {
 *   // point a Temporal client at server.target()
 * }
 * }</pre>
 *
 * <p>Everything an RPC acknowledged is in the store: after a crash, starting a server on the same
 * file resumes pending workflow tasks, activity tasks and timers.
 */
public final class PerduraServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PerduraServer.class);
  private static final String WORKFLOW_SERVICE = WorkflowServiceGrpc.SERVICE_NAME;
  private static final int SHARDS = 1;

  private final ServerConfig config;
  private final Store store;
  private final Matching matching;
  private final HistoryService history;
  private final dev.perdura.server.history.RetentionSweeper retention;
  private final HealthStatusManager health;
  private final ExecutorService calls;
  private final Server grpc;

  private PerduraServer(ServerConfig config) {
    this.config = config;
    this.store = openStore(config.storage());
    try {
      store.migrate();
      Clock clock = Clock.systemUTC();
      Namespaces namespaces = new Namespaces(store, clock);
      namespaces.ensure("default");
      config.namespaces().forEach(namespaces::ensure);
      this.matching = new Matching();
      this.history = new HistoryService(store, matching, clock, SHARDS);
      this.retention = new dev.perdura.server.history.RetentionSweeper(store, history, clock,
          config.retentionSweepInterval());
      this.health = new HealthStatusManager();
      this.calls = Executors.newVirtualThreadPerTaskExecutor();
      this.grpc =
          NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
              .executor(calls)
              .maxInboundMessageSize(64 * 1024 * 1024)
              .permitKeepAliveTime(5, TimeUnit.SECONDS)
              .permitKeepAliveWithoutCalls(true)
              .addService(new WorkflowServiceFrontend(namespaces, history, matching, store))
              .addService(health.getHealthService())
              .build();
      history.start();
      retention.start();
      grpc.start();
    } catch (IOException e) {
      store.close();
      throw new UncheckedIOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    health.setStatus(WORKFLOW_SERVICE, ServingStatus.SERVING);
    health.setStatus("", ServingStatus.SERVING);
    log.info("Perdura server listening on {} (data: {})", target(), config.storage().describe());
  }

  private static Store openStore(Storage storage) {
    return switch (storage) {
      case Storage.SqliteFile f -> SqliteStore.open(f.file());
      case Storage.InMemory m -> SqliteStore.inMemory();
      case Storage.Postgres p -> PostgresStore.open(p);
    };
  }

  /** Starts a server; fails when the address cannot be bound or the store cannot be opened. */
  public static PerduraServer start(ServerConfig config) {
    return new PerduraServer(config);
  }

  /** The bound port. */
  public int port() {
    return grpc.getPort();
  }

  /** host:port, as clients dial it. */
  public String target() {
    return config.host() + ":" + port();
  }

  /** The database file, or null when in memory. */
  public Path dbFile() {
    return config.dbFile();
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Stops accepting calls, ends long polls, and closes the store. Idempotent. */
  @Override
  public synchronized void close() {
    if (grpc.isTerminated()) {
      return;
    }
    health.enterTerminalState();
    grpc.shutdown();
    matching.close();
    retention.close();
    history.close();
    try {
      if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      grpc.shutdownNow();
    }
    calls.shutdownNow();
    store.close();
    log.info("Perdura server on {} stopped", config.host());
  }
}
