package dev.perdura.common;

import java.util.Objects;

/**
 * A value kept encoded, as a dynamic activity receives its arguments: decode it with the activity's
 * {@link dev.perdura.converter.PayloadConverter}, or pass it on unchanged.
 *
 * <pre>{@code
 * Object first = Activity.payloadConverter().fromPayload(args.get(0).payload());
 * }</pre>
 */
public record RawValue(Payload payload) {
  public RawValue {
    Objects.requireNonNull(payload, "payload");
  }
}
