package dev.perdura.testing;

import dev.perdura.activity.ActivityCancellationDetails.Reason;
import dev.perdura.activity.ActivityInfo;
import dev.perdura.client.PerduraClient;
import dev.perdura.common.Priority;
import dev.perdura.converter.PayloadConverter;
import dev.perdura.internal.Protos;
import dev.perdura.internal.activity.ActivityExecution;
import dev.perdura.internal.activity.HeartbeatSink;
import dev.perdura.internal.activity.WorkerShutdownSignal;
import dev.perdura.metrics.MetricMeter;
import io.temporal.api.common.v1.Payloads;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Runs activity code as the worker would, without a server: {@code Activity.info()}, heartbeats,
 * cancellation, shields, worker shutdown and the rest behave as in a worker, and the test sees and
 * steers them.
 *
 * <pre>{@code
 * ActivityEnvironment env = ActivityEnvironment.create();
 * env.onHeartbeat(details -> env.cancel(Reason.CANCEL_REQUESTED));   // cancel at the first heartbeat
 * assertThatThrownBy(() -> env.run(() -> new Shipping().ship("o-1")))
 *     .isInstanceOf(ActivityCanceledException.class);
 * assertThat(env.heartbeats()).hasSize(1);
 * }</pre>
 *
 * <p>Each {@link #run} is one activity attempt on its own virtual thread; {@link #cancel} and
 * {@link #shutdownWorker} act on the one running (call them from another thread or a heartbeat
 * listener). Not for concurrent runs.
 */
public final class ActivityEnvironment {
  private final ActivityInfo info;
  private final PerduraClient client;
  private final PayloadConverter converter;
  private final MetricMeter meter;
  private final boolean noThreadCancelException;
  private final WorkerShutdownSignal workerShutdown = new WorkerShutdownSignal();
  private final List<List<Object>> heartbeats = new CopyOnWriteArrayList<>();
  private final List<Consumer<List<Object>>> listeners = new CopyOnWriteArrayList<>();
  private volatile ActivityExecution running;

  private ActivityEnvironment(ActivityInfo info, PerduraClient client, PayloadConverter converter, MetricMeter meter,
      boolean noThreadCancelException) {
    this.info = info;
    this.client = client;
    this.converter = converter;
    this.meter = meter;
    this.noThreadCancelException = noThreadCancelException;
  }

  /** An environment with {@link #defaultInfo()}, no client, the default converter and no metrics. */
  public static ActivityEnvironment create() {
    return new ActivityEnvironment(defaultInfo(), null, PayloadConverter.defaultConverter(), MetricMeter.noop(), false);
  }

  /** Info for a first attempt of activity {@code test} of workflow {@code test}, scheduled now, no timeouts. */
  public static ActivityInfo defaultInfo() {
    Instant now = Instant.now();
    return new ActivityInfo("test", "unknown", 1, now, List.of(), Optional.empty(), false, Optional.empty(), now,
        Optional.empty(), now, "test", "test".getBytes(StandardCharsets.UTF_8), "default", Optional.of("test"),
        Optional.of("test-run"), Optional.of("test"), Priority.DEFAULT, Optional.empty());
  }

  public ActivityEnvironment withInfo(ActivityInfo info) {
    return new ActivityEnvironment(info, client, converter, meter, noThreadCancelException);
  }

  /** The client {@code Activity.client()} returns; without one it throws. */
  public ActivityEnvironment withClient(PerduraClient client) {
    return new ActivityEnvironment(info, client, converter, meter, noThreadCancelException);
  }

  public ActivityEnvironment withPayloadConverter(PayloadConverter converter) {
    return new ActivityEnvironment(info, client, converter, meter, noThreadCancelException);
  }

  public ActivityEnvironment withMetricMeter(MetricMeter meter) {
    return new ActivityEnvironment(info, client, converter, meter, noThreadCancelException);
  }

  /** Runs the code as an activity declared with {@code noThreadCancelException = true}. */
  public ActivityEnvironment withNoThreadCancelException(boolean on) {
    return new ActivityEnvironment(info, client, converter, meter, on);
  }

  /** Called with each heartbeat's details, on the activity's thread, as it heartbeats. */
  public void onHeartbeat(Consumer<List<Object>> listener) {
    listeners.add(listener);
  }

  /** Every heartbeat's details so far, in order. */
  public List<List<Object>> heartbeats() {
    return List.copyOf(heartbeats);
  }

  /**
   * Runs the code as one activity attempt and returns its result, or throws what it threw.
   * {@code Activity.completeAsync()} ends it like a worker would: with the exception it returns.
   */
  public <T> T run(Callable<T> activity) throws Exception {
    ActivityExecution execution = new ActivityExecution(info, null, noThreadCancelException, client, converter,
        "test", workerShutdown, meter, ignored -> new RecordingSink());
    Object[] outcome = new Object[2];
    Thread thread = Thread.ofVirtual().name("activity-environment").unstarted(() -> {
      execution.bind(Thread.currentThread());
      try {
        outcome[0] = activity.call();
      } catch (Throwable t) {
        outcome[1] = t;
      } finally {
        execution.finish();
      }
    });
    running = execution;
    try {
      thread.start();
      thread.join();
    } finally {
      running = null;
    }
    if (outcome[1] instanceof Exception e) {
      throw e;
    }
    if (outcome[1] instanceof Error e) {
      throw e;
    }
    @SuppressWarnings("unchecked")
    T result = (T) outcome[0];
    return result;
  }

  /**
   * Cancels the running activity for the reason given, as the worker would on hearing it from the
   * server (or seeing a timeout, or shutting down).
   *
   * @return false when nothing runs or it was already cancelled
   */
  public boolean cancel(Reason reason) {
    ActivityExecution execution = running;
    return execution != null && execution.cancel(reason);
  }

  /** Begins a worker shutdown: {@code isWorkerShutdown()} turns true and its waits return. */
  public void shutdownWorker() {
    workerShutdown.signal();
  }

  private final class RecordingSink implements HeartbeatSink {
    private volatile Payloads last;

    @Override
    public void record(List<?> details) {
      List<Object> copy = new ArrayList<>(Arrays.asList(details.toArray()));
      last = Protos.encode(converter, copy);
      heartbeats.add(copy);
      listeners.forEach(listener -> listener.accept(copy));
    }

    @Override
    public Payloads lastDetails() {
      return last;
    }

    @Override
    public void close() {}
  }
}
