package dev.perdura.server;

import dev.perdura.server.frontend.Namespaces;
import dev.perdura.server.frontend.ArrayMarshalling;
import dev.perdura.server.frontend.WorkflowServiceFrontend;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.Peers;
import dev.perdura.server.history.RetentionSweeper;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.Store;
import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The workflow engine on a store: matching, the history shards with their timers, the retention
 * sweeper, and the WorkflowService over them. Shards are started from what the store holds, so a
 * start after a crash, or a shard taken over from another server, resumes every pending task and
 * timer. A server alone on its store owns every shard ({@link #acquireAll}); on a shared store the
 * cluster node acquires and releases them.
 */
final class ServerCore implements AutoCloseable {

  private final Matching matching;
  private final HistoryService history;
  private final RetentionSweeper retention;
  private final WorkflowServiceFrontend frontend;
  private final MeterRegistry metrics;
  /** This engine's gauges: they read its parts, so they leave the registry with it. */
  private final List<Meter> gauges = new ArrayList<>();

  ServerCore(Store store, Clock clock, Duration retentionSweepInterval, MeterRegistry metrics, int shards,
      Peers peers, Executor calls) {
    Namespaces namespaces = new Namespaces(store, clock);
    this.matching = new Matching();
    this.history = new HistoryService(store, matching, clock, shards, metrics, peers);
    this.metrics = metrics;
    gauges.add(Gauge.builder("perdura.matching.backlog", matching, Matching::backlogSize)
        .description("Tasks waiting in task queues for a poll").register(metrics));
    gauges.add(Gauge.builder("perdura.matching.waiting.polls", matching, Matching::waitingPolls)
        .description("Polls waiting for a task").register(metrics));
    gauges.add(Gauge.builder("perdura.timers.pending", history, HistoryService::pendingTimers)
        .description("Durable timers not fired yet (workflow timers, timeouts, retry backoffs)").register(metrics));
    this.retention = new RetentionSweeper(store, history, clock, retentionSweepInterval);
    this.frontend = new WorkflowServiceFrontend(namespaces, history, matching, store, calls);
    try {
      history.start();
      retention.start();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  ServerServiceDefinition service() {
    return ArrayMarshalling.throughArrays(frontend.bindService());
  }

  HistoryService history() {
    return history;
  }

  /** Owns every shard, without leases: this server is alone on its store. */
  void acquireAll() {
    history.acquireAll();
  }

  /** Ends waiting polls, stops timers and the sweeper, and lets the shards finish what was queued. */
  @Override
  public void close() {
    gauges.forEach(metrics::remove);
    matching.close();
    frontend.close();
    retention.close();
    history.close();
  }
}
