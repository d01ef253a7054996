package dev.perdura.converter;

import dev.perdura.common.Payload;
import java.lang.reflect.Type;

/**
 * Turns values into {@link Payload}s and back. The default, {@link DefaultPayloadConverter}, speaks
 * the encodings of Temporal's default converter, so values cross between Perdura and other SDKs.
 *
 * <p>Implementations must be thread-safe. Failures are {@link DataConversionException}s.
 */
public interface PayloadConverter {

  Payload toPayload(Object value);

  /** Decodes into {@code type}, which may be generic ({@code List<Order>}). */
  Object fromPayload(Payload payload, Type type);

  default <T> T fromPayload(Payload payload, Class<T> type) {
    return type.cast(fromPayload(payload, (Type) type));
  }

  /**
   * Decodes without a target type, into the value's natural Java form: {@code null}, {@code byte[]},
   * or for JSON a {@code String}, {@code Number}, {@code Boolean}, {@code List} or {@code Map}.
   */
  Object fromPayload(Payload payload);

  /** The converter used when none is configured. */
  static PayloadConverter defaultConverter() {
    return DefaultPayloadConverter.INSTANCE;
  }
}
