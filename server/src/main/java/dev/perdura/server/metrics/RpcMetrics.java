package dev.perdura.server.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Times every call the server answers: {@code perdura.rpc.requests}, a timer tagged with the method
 * and the status code it ended with (long polls included, so their times are their waits).
 */
public final class RpcMetrics implements ServerInterceptor {
  private record Key(String method, Status.Code status) {}

  private final MeterRegistry registry;
  private final ConcurrentMap<Key, Timer> timers = new ConcurrentHashMap<>();

  public RpcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getBareMethodName();
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        timer(method, status.getCode()).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        super.close(status, trailers);
      }
    }, headers);
  }

  private Timer timer(String method, Status.Code status) {
    Key key = new Key(method, status);
    // Looked up before computeIfAbsent, whose function would be a new object on every call.
    Timer timer = timers.get(key);
    return timer != null ? timer : timers.computeIfAbsent(key, this::register);
  }

  private Timer register(Key key) {
    return Timer.builder("perdura.rpc.requests")
        .description("Calls answered, by method and status code")
        .tag("method", key.method() == null ? "unknown" : key.method())
        .tag("status", key.status().name())
        .register(registry);
  }
}
