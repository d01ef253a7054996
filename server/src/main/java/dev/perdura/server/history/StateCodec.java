package dev.perdura.server.history;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Turns {@link ExecutionState} into the bytes stored in the execution row, and back. */
final class StateCodec {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
          .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private StateCodec() {}

  static byte[] encode(ExecutionState state) {
    try {
      return MAPPER.writeValueAsBytes(state);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode state of " + state.workflowId, e);
    }
  }

  static ExecutionState decode(byte[] bytes) {
    try {
      return MAPPER.readValue(bytes, ExecutionState.class);
    } catch (IOException e) {
      throw new UncheckedIOException("stored execution state is unreadable", e);
    }
  }
}
