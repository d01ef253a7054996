package dev.perdura.server;

import dev.perdura.server.frontend.GzipDecompressor;
import dev.perdura.server.frontend.Namespaces;
import dev.perdura.server.cluster.ClusterNode;
import dev.perdura.server.history.Peers;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.grpc.DecompressorRegistry;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.util.MutableHandlerRegistry;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import dev.perdura.server.metrics.MetricsEndpoint;
import dev.perdura.server.metrics.RpcMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.OptionalInt;
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
 *
 * <p>On PostgreSQL, several servers share one database and the work: the history shards, and the
 * task queues with them, are split among the live servers by leases in the database; a call
 * reaching a server that does not own what it is about goes on to the owner, and the shards of a
 * server that stops or dies are taken over (see {@link ClusterNode}). Clients may connect to any
 * of them.
 */
public final class PerduraServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PerduraServer.class);
  private static final String WORKFLOW_SERVICE = WorkflowServiceGrpc.SERVICE_NAME;
  /** The largest request accepted, inflated. */
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private final ServerConfig config;
  private final Store store;
  private final MutableHandlerRegistry services = new MutableHandlerRegistry();
  private final HealthStatusManager health;
  private final ExecutorService calls;
  private final Server grpc;
  /**
   * The engine: all shards when this server is alone on its store (SQLite, memory); on a shared
   * store, the shards the cluster node holds leases for.
   */
  private final ServerCore core;
  /** The cluster membership when the store is shared (PostgreSQL). */
  private final ClusterNode node;
  private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  /** Serves {@link #metrics} when the configuration asks for it. */
  private final MetricsEndpoint metricsEndpoint;

  private PerduraServer(ServerConfig config) {
    this.config = config;
    bindProcessMetrics();
    this.store = openStore(config.storage());
    try {
      store.migrate();
      Clock clock = Clock.systemUTC();
      Namespaces namespaces = new Namespaces(store, clock);
      namespaces.ensure("default");
      config.namespaces().forEach(namespaces::ensure);
      this.health = new HealthStatusManager();
      this.calls = Executors.newVirtualThreadPerTaskExecutor();
      this.grpc =
          NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
              .directExecutor()
              .maxInboundMessageSize(MAX_MESSAGE_BYTES)
              .decompressorRegistry(DecompressorRegistry.getDefaultInstance()
                  .with(new GzipDecompressor(MAX_MESSAGE_BYTES), true))
              .permitKeepAliveTime(5, TimeUnit.SECONDS)
              .permitKeepAliveWithoutCalls(true)
              .fallbackHandlerRegistry(services)
              .intercept(ClusterNode.forwardingMarkReader())
              .intercept(new RpcMetrics(metrics))
              .addService(health.getHealthService())
              .build();
      grpc.start();
      if (store instanceof PostgresStore postgres) {
        this.node = new ClusterNode(postgres, advertisedAddress(), config.cluster().leaseDuration(),
            ClusterNode.SHARDS);
        this.core = new ServerCore(store, clock, config.retentionSweepInterval(), metrics, ClusterNode.SHARDS,
            node.peers(), calls);
        services.addService(node.route(core.service()));
        services.addService(ClusterNode.peerService(core.history(), calls));
        node.start(core.history());
        FunctionCounter.builder("perdura.store.fenced.commits", postgres, PostgresStore::fencedCommits)
            .description("History shards' commits written under their leases")
            .register(metrics);
        FunctionCounter.builder("perdura.store.fenced.transactions", postgres, PostgresStore::fencedTransactions)
            .description("Transactions that wrote them: several shards' commits go together when they queue")
            .register(metrics);
      } else {
        this.node = null;
        this.core = new ServerCore(store, clock, config.retentionSweepInterval(), metrics, 1, Peers.NONE, calls);
        core.acquireAll();
        services.addService(core.service());
      }
      Gauge.builder("perdura.cluster.shards.owned", this, PerduraServer::ownedShards)
          .description("History shards (with their task queues) this server owns now; all of them when it is alone"
              + " on its store")
          .register(metrics);
      this.metricsEndpoint = config.metricsPort().isPresent()
          ? MetricsEndpoint.start(config.host(), config.metricsPort().getAsInt(), metrics)
          : null;
    } catch (IOException e) {
      stopAfterFailedStart();
      throw new UncheckedIOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      stopAfterFailedStart();
      throw e;
    }
    health.setStatus(WORKFLOW_SERVICE, ServingStatus.SERVING);
    health.setStatus("", ServingStatus.SERVING);
    log.info("Perdura server listening on {} (data: {}){}", target(), config.storage().describe(),
        node == null ? "" : ", cluster node " + node.nodeId() + " owning " + ownedShards() + " of " + ClusterNode.SHARDS
            + " history shards");
  }

  private void bindProcessMetrics() {
    new JvmMemoryMetrics().bindTo(metrics);
    gcMetrics.bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);
    new ProcessorMetrics().bindTo(metrics);
    new UptimeMetrics().bindTo(metrics);
  }

  /** Gives the shards up (to other servers, on a shared store) and stops the engine. */
  private void stopEngine() {
    if (node != null) {
      node.close();
    }
    if (core != null) {
      core.close();
    }
  }

  /** Undoes what a start that failed half way had set up. */
  private void stopAfterFailedStart() {
    if (grpc != null) {
      grpc.shutdownNow();
    }
    stopEngine();
    if (calls != null) {
      calls.shutdownNow();
    }
    gcMetrics.close();
    store.close();
  }

  private String advertisedAddress() {
    if (config.cluster().advertisedAddress() != null) {
      return config.cluster().advertisedAddress();
    }
    if (config.host().equals("0.0.0.0") || config.host().equals("::")) {
      throw new IllegalArgumentException("listening on " + config.host() + ", this server cannot tell the others"
          + " where to reach it: give its address (--advertise-address host:port)");
    }
    return target();
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

  /** The port metrics are served on, when they are. */
  public OptionalInt metricsPort() {
    return metricsEndpoint == null ? OptionalInt.empty() : OptionalInt.of(metricsEndpoint.port());
  }

  /** host:port, as clients dial it. */
  public String target() {
    return config.host() + ":" + port();
  }

  /** The database file, or null when in memory or on PostgreSQL. */
  public Path dbFile() {
    return config.dbFile();
  }

  /**
   * Whether this server runs part of the workflow engine now: always when it is alone on its store;
   * on a shared PostgreSQL database, while it owns at least one history shard.
   */
  public boolean isActive() {
    return node == null || node.isActive();
  }

  /** How many history shards this server owns now (with their task queues). */
  public int ownedShards() {
    return core == null ? 0 : core.history().ownedShards();
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Stops accepting calls, ends long polls, gives up the lease if it holds it, and closes the store. Idempotent. */
  @Override
  public synchronized void close() {
    if (grpc.isTerminated()) {
      return;
    }
    health.enterTerminalState();
    grpc.shutdown();
    stopEngine();
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
    if (metricsEndpoint != null) {
      metricsEndpoint.close();
    }
    gcMetrics.close();
    metrics.close();
    store.close();
    log.info("Perdura server on {} stopped", config.host());
  }
}
