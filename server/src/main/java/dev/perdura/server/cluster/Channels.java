package dev.perdura.server.cluster;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One gRPC channel per other server of the cluster, made on first use, closed with the node. */
final class Channels implements AutoCloseable {
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  ManagedChannel to(String address) {
    if (closed) {
      throw new IllegalStateException("this server is shutting down");
    }
    return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a)
        .usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build());
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
