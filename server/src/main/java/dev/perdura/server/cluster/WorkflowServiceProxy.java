package dev.perdura.server.cluster;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WorkflowService of a server that is not the active one: every call goes, as it came (bytes
 * in, bytes out, with its deadline and the active server's status and trailers back), to the
 * active server. A forwarded call is marked, so a call that reaches a second inactive server (the
 * active one changed meanwhile) fails with UNAVAILABLE, which clients retry, instead of hopping on.
 */
final class WorkflowServiceProxy implements AutoCloseable {
  static final Metadata.Key<String> FORWARDED_BY =
      Metadata.Key.of("perdura-forwarded-by", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> FORWARDED_FROM = Context.key("perdura-forwarded-by");

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private final String nodeId;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile String target;

  WorkflowServiceProxy(String nodeId) {
    this.nodeId = nodeId;
  }

  /** Puts the forwarding mark of an incoming call into its context; install on the whole server. */
  static ServerInterceptor forwardingMarkReader() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String from = headers.get(FORWARDED_BY);
        if (from == null) {
          return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(FORWARDED_FROM, from), call, headers, next);
      }
    };
  }

  /** Where calls go from now on: the active server's address, or nobody (calls fail UNAVAILABLE). */
  void target(Optional<String> address) {
    target = address.orElse(null);
  }

  /** Every WorkflowService method, forwarded. */
  ServerServiceDefinition service() {
    ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(WorkflowServiceGrpc.SERVICE_NAME);
    for (MethodDescriptor<?, ?> method : WorkflowServiceGrpc.getServiceDescriptor().getMethods()) {
      MethodDescriptor<byte[], byte[]> raw = method.toBuilder(BYTES, BYTES).build();
      service.addMethod(raw, ServerCalls.asyncUnaryCall((request, response) -> forward(raw, request, response)));
    }
    return service.build();
  }

  private void forward(MethodDescriptor<byte[], byte[]> method, byte[] request, StreamObserver<byte[]> response) {
    String from = FORWARDED_FROM.get();
    if (from != null) {
      response.onError(Status.UNAVAILABLE.withDescription("forwarded by " + from + " to a Perdura server that is"
          + " not active: the active server just changed; retry").asRuntimeException());
      return;
    }
    String to = target;
    if (to == null) {
      response.onError(Status.UNAVAILABLE.withDescription(
          "no Perdura server is active yet (one takes over when the last one's lease expires); retry")
          .asRuntimeException());
      return;
    }
    CallOptions options = CallOptions.DEFAULT;
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      options = options.withDeadline(deadline);
    }
    Metadata mark = new Metadata();
    mark.put(FORWARDED_BY, nodeId);
    ClientCall<byte[], byte[]> call = ClientInterceptors.intercept(channel(to),
        MetadataUtils.newAttachHeadersInterceptor(mark)).newCall(method, options);
    ClientCalls.asyncUnaryCall(call, request, new StreamObserver<>() {
      @Override
      public void onNext(byte[] value) {
        response.onNext(value);
      }

      @Override
      public void onError(Throwable t) {
        Metadata trailers = Status.trailersFromThrowable(t);
        response.onError(Status.fromThrowable(t).asRuntimeException(trailers == null ? new Metadata() : trailers));
      }

      @Override
      public void onCompleted() {
        response.onCompleted();
      }
    });
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a)
        .usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build());
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
