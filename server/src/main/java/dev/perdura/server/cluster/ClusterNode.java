package dev.perdura.server.cluster;

import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.postgres.PostgresStore.Lease;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.util.MutableHandlerRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of several servers on one PostgreSQL database. At most one of them is active: it holds the
 * lease {@value #LEASE} in the database, renews it every fifth of its duration, and runs the
 * workflow engine (the core); its commits are fenced by the lease's version, so once another
 * server has taken the lease over not one more of them lands. The others serve the same API by
 * forwarding every call to the active server, and try to take the lease when it expires: a
 * crashed active server is replaced after at most one lease duration; one that stops cleanly
 * gives its lease up at once.
 *
 * <p>The engine of a server that becomes active starts the way it starts after a crash: from the
 * store (backlog tasks, timers), so a takeover loses nothing that was acknowledged.
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  static final String LEASE = "active-server";

  /** The workflow engine of the active server: its WorkflowService, closed when the lease is lost. */
  public interface Core extends AutoCloseable {
    ServerServiceDefinition service();

    @Override
    void close();
  }

  private final PostgresStore store;
  private final String address;
  private final long leaseMillis;
  private final MutableHandlerRegistry services;
  private final Supplier<Core> cores;
  private final String nodeId = UUID.randomUUID().toString();
  private final WorkflowServiceProxy proxy = new WorkflowServiceProxy(nodeId);
  private final Thread loop;
  private volatile boolean running = true;
  private volatile boolean active;

  // Owned by the loop thread (and by start() before the loop runs).
  private Lease held;
  private Core core;
  private long lastRenewedNanos;

  /**
   * @param address where the other servers reach this one ({@code host:port})
   * @param services the server's registry; this node puts the engine's or the forwarding
   *     WorkflowService there
   * @param cores starts an engine on the store (called on becoming active)
   */
  public ClusterNode(PostgresStore store, String address, Duration lease, MutableHandlerRegistry services,
      Supplier<Core> cores) {
    this.store = store;
    this.address = address;
    this.leaseMillis = lease.toMillis();
    this.services = services;
    this.cores = cores;
    this.loop = Thread.ofPlatform().name("cluster-lease").daemon().unstarted(this::run);
  }

  /** Install on the server: lets a forwarded call be told from a client's. */
  public static ServerInterceptor forwardingMarkReader() {
    return WorkflowServiceProxy.forwardingMarkReader();
  }

  /** Serves by forwarding, then tries the lease once before returning, then keeps at it. */
  public void start() {
    services.addService(proxy.service());
    tick();
    loop.start();
  }

  /** Whether this server holds the lease and runs the engine now. */
  public boolean isActive() {
    return active;
  }

  private void run() {
    long interval = Math.max(100, leaseMillis / 5);
    while (running) {
      try {
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (running) {
        tick();
      }
    }
  }

  private void tick() {
    try {
      if (held != null) {
        if (store.renewLease(held, leaseMillis)) {
          lastRenewedNanos = System.nanoTime();
        } else {
          log.warn("lost lease {} (version {}) to another server; forwarding calls from now on", LEASE, held.version());
          stepDown();
        }
      }
      if (held == null) {
        Optional<Lease> acquired = store.tryAcquireLease(LEASE, nodeId, address, leaseMillis);
        if (acquired.isPresent()) {
          becomeActive(acquired.get());
        } else {
          proxy.target(store.leaseHolder(LEASE).map(Lease::address));
        }
      }
    } catch (StoreException e) {
      log.warn("cannot reach the database to {} lease {}: {}", held != null ? "renew" : "check", LEASE,
          e.getMessage());
      // Stop before the lease can have expired: another server may take over after that.
      if (held != null && TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRenewedNanos) > leaseMillis * 4 / 5) {
        log.warn("lease {} not renewed for {} ms; stepping down", LEASE, leaseMillis * 4 / 5);
        stepDown();
      }
    }
  }

  private void becomeActive(Lease lease) {
    store.fenceCommits(lease);
    Core started;
    try {
      started = cores.get();
    } catch (RuntimeException e) {
      log.error("took lease {} (version {}) but could not start the engine; giving it up", LEASE, lease.version(), e);
      store.releaseLease(lease);
      return;
    }
    held = lease;
    core = started;
    lastRenewedNanos = System.nanoTime();
    services.addService(started.service());
    proxy.target(Optional.empty());
    active = true;
    log.info("this server ({}, {}) is now the active one: lease {} version {}", address, nodeId, LEASE,
        lease.version());
  }

  private void stepDown() {
    services.addService(proxy.service());
    active = false;
    Core stopping = core;
    core = null;
    held = null;
    // The fence stays at the lost version: whatever the closing engine still commits fails.
    if (stopping != null) {
      stopping.close();
    }
  }

  /** Stops the engine if it runs here and gives the lease up, so another server takes over at once. */
  @Override
  public void close() {
    running = false;
    loop.interrupt();
    try {
      loop.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Lease lease = held;
    stepDown();
    if (lease != null) {
      try {
        store.releaseLease(lease);
        log.info("gave up lease {} (version {})", LEASE, lease.version());
      } catch (StoreException e) {
        log.warn("could not give up lease {}; another server takes over when it expires", LEASE, e);
      }
    }
    proxy.close();
  }
}
