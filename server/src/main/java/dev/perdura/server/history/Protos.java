package dev.perdura.server.history;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import io.temporal.api.common.v1.Priority;

/** Conversions between stored bytes / millis and the proto types of the API. */
final class Protos {
  private Protos() {}

  static Priority priority(byte[] bytes) {
    return parse(Priority.parser(), bytes, Priority.getDefaultInstance());
  }

  static <T extends Message> T parse(Parser<T> parser, byte[] bytes, T empty) {
    if (bytes == null || bytes.length == 0) {
      return empty;
    }
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored proto is unreadable", e);
    }
  }

  static byte[] bytes(Message message) {
    return message == null ? null : message.toByteArray();
  }

  static Duration duration(long millis) {
    return Durations.fromMillis(millis);
  }

  static long millis(Duration duration) {
    return Durations.toMillis(duration);
  }

  static Timestamp timestamp(long millis) {
    return Timestamps.fromMillis(millis);
  }
}
