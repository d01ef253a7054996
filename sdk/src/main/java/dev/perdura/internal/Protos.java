package dev.perdura.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.perdura.common.Payload;
import dev.perdura.common.Priority;
import dev.perdura.converter.PayloadConverter;
import io.temporal.api.common.v1.Payloads;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Conversions between the SDK's own types and the Temporal API's generated ones. */
public final class Protos {
  private Protos() {}

  public static io.temporal.api.common.v1.Payload toProto(Payload payload) {
    io.temporal.api.common.v1.Payload.Builder builder = io.temporal.api.common.v1.Payload.newBuilder()
        .setData(ByteString.copyFrom(payload.data()));
    payload.metadata().forEach((k, v) -> builder.putMetadata(k, ByteString.copyFrom(v)));
    return builder.build();
  }

  public static Payload fromProto(io.temporal.api.common.v1.Payload payload) {
    Map<String, byte[]> metadata = new LinkedHashMap<>();
    payload.getMetadataMap().forEach((k, v) -> metadata.put(k, v.toByteArray()));
    return new Payload(metadata, payload.getData().toByteArray());
  }

  public static Payloads encode(PayloadConverter converter, List<?> values) {
    Payloads.Builder payloads = Payloads.newBuilder();
    for (Object value : values) {
      payloads.addPayloads(toProto(converter.toPayload(value)));
    }
    return payloads.build();
  }

  public static List<Payload> payloads(Payloads payloads) {
    List<Payload> list = new ArrayList<>(payloads.getPayloadsCount());
    payloads.getPayloadsList().forEach(p -> list.add(fromProto(p)));
    return list;
  }

  public static com.google.protobuf.Duration toProto(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds()).setNanos(duration.getNano()).build();
  }

  /** Null when the duration is unset or zero, as the API means "no timeout" by both. */
  public static Duration optionalDuration(boolean present, com.google.protobuf.Duration duration) {
    if (!present || (duration.getSeconds() == 0 && duration.getNanos() == 0)) {
      return null;
    }
    return Duration.ofSeconds(duration.getSeconds(), duration.getNanos());
  }

  public static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  public static io.temporal.api.common.v1.Priority toProto(Priority priority) {
    return io.temporal.api.common.v1.Priority.newBuilder()
        .setPriorityKey(priority.priorityKey())
        .setFairnessKey(priority.fairnessKey())
        .setFairnessWeight(priority.fairnessWeight())
        .build();
  }

  public static Priority fromProto(io.temporal.api.common.v1.Priority priority) {
    return new Priority(priority.getPriorityKey(), priority.getFairnessKey(), priority.getFairnessWeight());
  }

  /** A retry policy as the API carries it; unset fields are left to the server's defaults. */
  public static io.temporal.api.common.v1.RetryPolicy toProto(dev.perdura.common.RetryPolicy policy) {
    io.temporal.api.common.v1.RetryPolicy.Builder builder = io.temporal.api.common.v1.RetryPolicy.newBuilder()
        .setBackoffCoefficient(policy.backoffCoefficient())
        .setMaximumAttempts(policy.maximumAttempts())
        .addAllNonRetryableErrorTypes(policy.nonRetryableErrorTypes());
    if (policy.initialInterval() != null) {
      builder.setInitialInterval(toProto(policy.initialInterval()));
    }
    if (policy.maximumInterval() != null) {
      builder.setMaximumInterval(toProto(policy.maximumInterval()));
    }
    return builder.build();
  }
}
