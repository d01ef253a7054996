package dev.perdura.server.cluster;

import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.Peers;
import dev.perdura.server.store.Lease;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.StoreException;
import dev.perdura.server.store.postgres.PostgresStore;
import dev.perdura.server.store.postgres.PostgresStore.LeaseRow;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of several servers on one PostgreSQL database, all of them serving. The history shards
 * (and with them the task queues that hash to them) are split among the live servers: each shard
 * has a lease in the database ({@value #SHARD_PREFIX}N), and each server has a membership lease
 * ({@value #NODE_PREFIX}id) that says it is alive and where it is reached. Every fifth of the
 * lease duration a server renews what it holds, reads the lease table, and evens out: it takes
 * free shards while it holds fewer than {@code ceil(shards / live servers)} and gives up the
 * ones above that, so a server that joins gets its share within a few rounds and the shards of
 * one that stops or dies are taken over once their leases are free or expired.
 *
 * <p>Commits of a shard are fenced by its lease's version; a server that takes a shard over
 * starts it as after a crash, from the store (its backlog tasks and timers), so a move loses
 * nothing that was acknowledged. Calls go to the owner of what they are about ({@link
 * CallRouter}); servers reach each other's shards and task queues through {@link PeerClient}.
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  /**
   * History shards on a shared database. Fixed, since a run's shard is a hash of its id modulo
   * this number; it is also the most servers that can share the work.
   */
  public static final int SHARDS = 16;
  static final String NODE_PREFIX = "node:";
  static final String SHARD_PREFIX = "shard:";
  /** Membership rows of servers gone this long are deleted. */
  private static final long FORGET_NODES_AFTER_MILLIS = TimeUnit.HOURS.toMillis(1);

  private final PostgresStore store;
  private final String address;
  private final long leaseMillis;
  private final int shardCount;
  private final String nodeId = UUID.randomUUID().toString();
  private final Channels channels = new Channels();
  private final PeerClient peers;
  private final CallRouter router;
  /** The address of each shard's live owner, as last read; null where none. */
  private final AtomicReferenceArray<String> owners;
  private final Thread loop;
  private volatile boolean running = true;
  /** The engine whose shards this node takes and gives up; set by {@link #start}. */
  private volatile HistoryService history;

  // Owned by the loop thread (and by start() before the loop runs).
  private Lease membership;
  private final Map<Integer, Lease> held = new TreeMap<>();
  private long lastRenewedNanos = System.nanoTime();
  private int rounds;

  /**
   * @param address where the other servers reach this one ({@code host:port})
   * @param shardCount the number of history shards, the same for every server of the database
   */
  public ClusterNode(PostgresStore store, String address, Duration lease, int shardCount) {
    this.store = store;
    this.address = address;
    this.leaseMillis = lease.toMillis();
    this.shardCount = shardCount;
    this.owners = new AtomicReferenceArray<>(shardCount);
    PeerClient.Owners view = new PeerClient.Owners() {
      @Override
      public int shardCount() {
        return shardCount;
      }

      @Override
      public Optional<String> remoteOwner(int shard) {
        return ClusterNode.this.remoteOwner(shard);
      }

      @Override
      public boolean ownsHere(int shard) {
        HistoryService engine = history;
        return engine != null && engine.owns(shard);
      }

      @Override
      public void addHere(TaskRow task) {
        history.acceptTask(task);
      }
    };
    this.peers = new PeerClient(view, channels);
    this.router = new CallRouter(nodeId, view, channels);
    this.loop = Thread.ofPlatform().name("cluster-leases").daemon().unstarted(this::run);
  }

  /** The other servers, for the history service this node drives (build it with these, then {@link #start}). */
  public Peers peers() {
    return peers;
  }

  private Optional<String> remoteOwner(int shard) {
    String owner = owners.get(shard);
    // Our own address with the shard not here: it was just given up; its next owner is not known yet.
    return owner == null || owner.equals(address) ? Optional.empty() : Optional.of(owner);
  }

  /** Install on the server: lets a forwarded call be told from a client's. */
  public static ServerInterceptor forwardingMarkReader() {
    return CallRouter.forwardingMarkReader();
  }

  /** The WorkflowService of this server's frontend, with calls sent to the owner of what they are about. */
  public ServerServiceDefinition route(ServerServiceDefinition frontend) {
    return router.route(frontend);
  }

  /** The calls other servers of the cluster make to this one, served by {@code history} on {@code calls}. */
  public static ServerServiceDefinition peerService(HistoryService history, Executor calls) {
    return new PeerService(history, calls).service();
  }

  /**
   * Joins with {@code history} as the engine: takes a first share of the shards before returning,
   * then keeps renewing and evening out.
   */
  public void start(HistoryService history) {
    this.history = history;
    tick();
    loop.start();
  }

  /** This server's id in the lease table. */
  public String nodeId() {
    return nodeId;
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
      renew();
      List<LeaseRow> table = store.leases("");
      readOwners(table);
      long live = table.stream().filter(r -> r.live() && r.lease().name().startsWith(NODE_PREFIX)).count();
      int share = (int) ((shardCount + Math.max(1, live) - 1) / Math.max(1, live));
      if (held.size() < share) {
        take(share - held.size());
      } else if (held.size() > share) {
        giveUp(held.size() - share);
      }
      if (++rounds % 100 == 0) {
        store.deleteExpiredLeases(NODE_PREFIX, FORGET_NODES_AFTER_MILLIS);
      }
    } catch (StoreException e) {
      log.warn("cannot reach the database to renew or check leases: {}", e.getMessage());
      // Stop before the leases can have expired: other servers may take the shards after that.
      if (!held.isEmpty()
          && TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRenewedNanos) > leaseMillis * 4 / 5) {
        log.warn("leases not renewed for {} ms; giving up shards {}", leaseMillis * 4 / 5, held.keySet());
        for (int shard : List.copyOf(held.keySet())) {
          history.release(shard);
          held.remove(shard);
        }
      }
    } catch (RuntimeException e) {
      log.error("cluster round failed", e);
    }
  }

  private void renew() {
    if (membership == null || !store.renewLease(membership, leaseMillis)) {
      membership = store.tryAcquireLease(NODE_PREFIX + nodeId, nodeId, address, leaseMillis).orElse(null);
    }
    for (Map.Entry<Integer, Lease> shard : List.copyOf(held.entrySet())) {
      if (!store.renewLease(shard.getValue(), leaseMillis)) {
        log.warn("lost the lease of history shard {} (version {}) to another server; giving it up", shard.getKey(),
            shard.getValue().version());
        history.release(shard.getKey());
        held.remove(shard.getKey());
      }
    }
    lastRenewedNanos = System.nanoTime();
  }

  private void readOwners(List<LeaseRow> table) {
    String[] read = new String[shardCount];
    for (LeaseRow row : table) {
      String name = row.lease().name();
      if (row.live() && name.startsWith(SHARD_PREFIX)) {
        try {
          int shard = Integer.parseInt(name.substring(SHARD_PREFIX.length()));
          if (shard >= 0 && shard < shardCount) {
            read[shard] = row.lease().address();
          }
        } catch (NumberFormatException e) {
          log.warn("lease row {} names no shard; ignored", name);
        }
      }
    }
    for (int i = 0; i < shardCount; i++) {
      owners.set(i, read[i]);
    }
  }

  private void take(int wanted) {
    List<Integer> free = new ArrayList<>();
    boolean[] taken = new boolean[shardCount];
    for (int i = 0; i < shardCount; i++) {
      taken[i] = owners.get(i) != null;
    }
    // Servers starting together try different shards first.
    int offset = ThreadLocalRandom.current().nextInt(shardCount);
    for (int i = 0; i < shardCount; i++) {
      int shard = (offset + i) % shardCount;
      if (!taken[shard] && !held.containsKey(shard)) {
        free.add(shard);
      }
    }
    Map<Integer, Lease> acquired = new HashMap<>();
    for (int shard : free) {
      if (acquired.size() == wanted) {
        break;
      }
      store.tryAcquireLease(SHARD_PREFIX + shard, nodeId, address, leaseMillis)
          .ifPresent(lease -> acquired.put(shard, lease));
    }
    if (acquired.isEmpty()) {
      return;
    }
    try {
      history.acquire(acquired);
    } catch (RuntimeException e) {
      log.error("took the leases of history shards {} but could not start them; giving them up", acquired.keySet(), e);
      acquired.values().forEach(store::releaseLease);
      return;
    }
    held.putAll(acquired);
    acquired.keySet().forEach(shard -> owners.set(shard, address));
    log.info("this server ({}, {}) now owns history shards {} of {}", address, nodeId, held.keySet(), shardCount);
  }

  private void giveUp(int extra) {
    List<Integer> mine = new ArrayList<>(held.keySet());
    for (int i = 0; i < extra; i++) {
      int shard = mine.get(mine.size() - 1 - i);
      Lease lease = held.remove(shard);
      history.release(shard);
      owners.set(shard, null);
      store.releaseLease(lease);
    }
    log.info("gave up {} history shards to even out; this server ({}) owns {} now", extra, address, held.keySet());
  }

  /** Whether this server owns any shard now. */
  public boolean isActive() {
    HistoryService engine = history;
    return engine != null && engine.ownedShards() > 0;
  }

  /** Gives up every shard (so others take them over at once) and the membership, then stops. */
  @Override
  public void close() {
    running = false;
    loop.interrupt();
    try {
      loop.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Map.Entry<Integer, Lease> shard : held.entrySet()) {
      if (history != null) {
        history.release(shard.getKey());
      }
      try {
        store.releaseLease(shard.getValue());
      } catch (StoreException e) {
        log.warn("could not give up the lease of history shard {}; another server takes it when it expires",
            shard.getKey(), e);
      }
    }
    if (!held.isEmpty()) {
      log.info("gave up history shards {}", held.keySet());
    }
    held.clear();
    if (membership != null) {
      try {
        store.releaseLease(membership);
      } catch (StoreException e) {
        log.warn("could not end this server's membership; it expires by itself", e);
      }
    }
    peers.close();
    channels.close();
  }
}
