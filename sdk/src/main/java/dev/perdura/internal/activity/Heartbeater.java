package dev.perdura.internal.activity;

import com.google.protobuf.ByteString;
import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.internal.Protos;
import dev.perdura.internal.grpc.ServiceConnection;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatRequest;
import io.temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an activity's heartbeats to the server, throttled: at most one per interval (0.8 × the
 * heartbeat timeout, or {@link #DEFAULT_INTERVAL} without one), the latest details winning. The
 * server's answer is what tells a running activity it was cancelled, paused or reset.
 */
final class Heartbeater implements HeartbeatSink {
  private static final Logger log = LoggerFactory.getLogger(Heartbeater.class);
  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

  private final ActivityExecution execution;
  private final ServiceConnection connection;
  private final ScheduledExecutorService scheduler;
  private final long intervalNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private Payloads pending;
  private Payloads lastDetails;
  private long lastSentNanos;
  private boolean sending;
  private ScheduledFuture<?> flush;
  private boolean closed;

  Heartbeater(ActivityExecution execution, ServiceConnection connection, ScheduledExecutorService scheduler,
      Duration heartbeatTimeout) {
    this.execution = execution;
    this.connection = connection;
    this.scheduler = scheduler;
    this.intervalNanos = heartbeatTimeout == null
        ? DEFAULT_INTERVAL.toNanos()
        : Math.min(DEFAULT_INTERVAL.toNanos(), heartbeatTimeout.toNanos() * 4 / 5);
    this.lastSentNanos = System.nanoTime() - intervalNanos;
  }

  /** Records details; sends them now if the interval allows, else when it ends. */
  @Override
  public void record(List<?> details) {
    Payloads payloads = Protos.encode(execution.converter(), details);
    Payloads sendNow = null;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      lastDetails = payloads;
      long wait = lastSentNanos + intervalNanos - System.nanoTime();
      if (wait <= 0 && !sending) {
        sendNow = payloads;
        beginSend();
      } else {
        pending = payloads;
        if (flush == null) {
          flush = scheduler.schedule(this::flush, Math.max(wait, 0), TimeUnit.NANOSECONDS);
        }
      }
    } finally {
      lock.unlock();
    }
    if (sendNow != null) {
      startSending(sendNow);
    }
  }

  /** Under the lock: marks a send as begun now. */
  private void beginSend() {
    sending = true;
    lastSentNanos = System.nanoTime();
  }

  private void flush() {
    Payloads details;
    lock.lock();
    try {
      flush = null;
      if (closed || pending == null) {
        return;
      }
      if (sending) {
        // The send in flight reschedules when it ends.
        return;
      }
      details = pending;
      pending = null;
      beginSend();
    } finally {
      lock.unlock();
    }
    startSending(details);
  }

  private void startSending(Payloads details) {
    Thread.ofVirtual().name("heartbeat-" + execution.info().activityId()).start(() -> {
      try {
        send(details);
      } finally {
        lock.lock();
        try {
          sending = false;
          if (pending != null && flush == null && !closed) {
            long wait = lastSentNanos + intervalNanos - System.nanoTime();
            flush = scheduler.schedule(this::flush, Math.max(wait, 0), TimeUnit.NANOSECONDS);
          }
        } finally {
          lock.unlock();
        }
      }
    });
  }

  private void send(Payloads details) {
    RecordActivityTaskHeartbeatResponse response;
    try {
      response = connection.call().recordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest.newBuilder()
          .setNamespace(execution.info().namespace())
          .setTaskToken(ByteString.copyFrom(execution.info().taskToken()))
          .setDetails(details)
          .setIdentity(execution.identity())
          .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        execution.cancel(Reason.NOT_FOUND);
      } else {
        log.warn("heartbeat of activity {} ({}) of workflow {} failed; the next one retries: {}",
            execution.info().activityId(), execution.info().activityType(),
            execution.info().workflowId().orElse("-"), e.getStatus());
      }
      return;
    }
    if (response.getCancelRequested()) {
      execution.cancel(Reason.CANCEL_REQUESTED);
    } else if (response.getActivityPaused()) {
      execution.cancel(Reason.PAUSED);
    } else if (response.getActivityReset()) {
      execution.cancel(Reason.RESET);
    }
  }

  /** The last details recorded, for the failure report of this attempt; null when none. */
  @Override
  public Payloads lastDetails() {
    lock.lock();
    try {
      return lastDetails;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      if (flush != null) {
        flush.cancel(false);
        flush = null;
      }
    } finally {
      lock.unlock();
    }
  }
}
