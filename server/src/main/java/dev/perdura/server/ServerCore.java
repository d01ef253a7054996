package dev.perdura.server;

import dev.perdura.server.cluster.ClusterNode;
import dev.perdura.server.frontend.Namespaces;
import dev.perdura.server.frontend.WorkflowServiceFrontend;
import dev.perdura.server.history.HistoryService;
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

/**
 * The workflow engine on a store: matching, the history shards with their timers, the retention
 * sweeper, and the WorkflowService over them. Started from what the store holds, so starting one
 * after a crash or on a server that takes over from another resumes every pending task and timer.
 */
final class ServerCore implements ClusterNode.Core {
  private static final int SHARDS = 1;

  private final Matching matching;
  private final HistoryService history;
  private final RetentionSweeper retention;
  private final WorkflowServiceFrontend frontend;
  private final MeterRegistry metrics;
  /** This engine's gauges: they read its parts, so they leave the registry with it. */
  private final List<Meter> gauges = new ArrayList<>();

  ServerCore(Store store, Clock clock, Duration retentionSweepInterval, MeterRegistry metrics) {
    Namespaces namespaces = new Namespaces(store, clock);
    this.matching = new Matching();
    this.history = new HistoryService(store, matching, clock, SHARDS, metrics);
    this.metrics = metrics;
    gauges.add(Gauge.builder("perdura.matching.backlog", matching, Matching::backlogSize)
        .description("Tasks waiting in task queues for a poll").register(metrics));
    gauges.add(Gauge.builder("perdura.matching.waiting.polls", matching, Matching::waitingPolls)
        .description("Polls waiting for a task").register(metrics));
    gauges.add(Gauge.builder("perdura.timers.pending", history, HistoryService::pendingTimers)
        .description("Durable timers not fired yet (workflow timers, timeouts, retry backoffs)").register(metrics));
    this.retention = new RetentionSweeper(store, history, clock, retentionSweepInterval);
    this.frontend = new WorkflowServiceFrontend(namespaces, history, matching, store);
    try {
      history.start();
      retention.start();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public ServerServiceDefinition service() {
    return frontend.bindService();
  }

  /** Ends waiting polls, stops timers and the sweeper, and lets the shards finish what was queued. */
  @Override
  public void close() {
    gauges.forEach(metrics::remove);
    matching.close();
    retention.close();
    history.close();
  }
}
