package dev.perdura.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.perdura.common.Payload;
import dev.perdura.internal.Protos;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The default converter against the official Temporal Java SDK's: same encodings, same bytes (JSON
 * compared as trees), and each decodes what the other encodes.
 */
class DefaultPayloadConverterTest {
  private static final PayloadConverter ours = PayloadConverter.defaultConverter();
  private static final io.temporal.common.converter.DataConverter theirs = DefaultDataConverter.STANDARD_INSTANCE;
  private static final ObjectMapper json = new ObjectMapper();

  public record Order(String id, int quantity, List<String> items) {}

  static List<Object> values() {
    return java.util.Arrays.asList(
        null, "text", 42, 4.5, true, new byte[] {1, 2, 3}, List.of("a", "b"), Map.of("k", 1),
        new Order("o-1", 3, List.of("x", "y")),
        WorkflowExecution.newBuilder().setWorkflowId("wf").setRunId("run").build());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("values")
  void encodesLikeTheTemporalSdk(Object value) throws Exception {
    Payload mine = ours.toPayload(value);
    io.temporal.api.common.v1.Payload other = theirs.toPayload(value).orElseThrow();
    Payload their = Protos.fromProto(other);
    assertThat(mine.encoding()).isEqualTo(their.encoding());
    assertThat(mine.metadataString("messageType")).isEqualTo(their.metadataString("messageType"));
    if (mine.encoding().startsWith("json/")) {
      assertThat(json.readTree(mine.data())).isEqualTo(json.readTree(their.data()));
    } else {
      assertThat(mine.data()).isEqualTo(their.data());
    }
  }

  @Test
  void decodesWhatTheTemporalSdkEncodesAndTheOtherWayRound() {
    Order order = new Order("o-2", 1, List.of("z"));
    Payload fromThem = Protos.fromProto(theirs.toPayload(order).orElseThrow());
    assertThat(ours.fromPayload(fromThem, Order.class)).isEqualTo(order);

    var fromUs = Protos.toProto(ours.toPayload(order));
    assertThat(theirs.fromPayload(fromUs, Order.class, Order.class)).isEqualTo(order);

    WorkflowExecution execution = WorkflowExecution.newBuilder().setWorkflowId("w").build();
    Payload proto = Protos.fromProto(theirs.toPayload(execution).orElseThrow());
    assertThat(ours.fromPayload(proto, WorkflowExecution.class)).isEqualTo(execution);
  }

  @Test
  void genericTypesAndNaturalDecodingWork() {
    Payload list = ours.toPayload(List.of(new Order("a", 1, List.of())));
    @SuppressWarnings("unchecked")
    List<Order> orders = (List<Order>) ours.fromPayload(list, new TypeReference<List<Order>>() {}.getType());
    assertThat(orders).containsExactly(new Order("a", 1, List.of()));
    assertThat(ours.fromPayload(ours.toPayload(Map.of("n", 2)))).isEqualTo(Map.of("n", 2));
    assertThat(ours.fromPayload(ours.toPayload(null))).isNull();
    assertThat((byte[]) ours.fromPayload(ours.toPayload(new byte[] {7}))).containsExactly(7);
  }

  @Test
  void mismatchesAreClearErrors() {
    assertThatThrownBy(() -> ours.fromPayload(ours.toPayload("text"), Order.class))
        .isInstanceOf(DataConversionException.class).hasMessageContaining("json/plain");
    assertThatThrownBy(() -> ours.fromPayload(ours.toPayload(null), int.class))
        .isInstanceOf(DataConversionException.class).hasMessageContaining("primitive");
    assertThatThrownBy(() -> ours.fromPayload(Payload.of("xml/plain", new byte[0]), String.class))
        .isInstanceOf(DataConversionException.class).hasMessageContaining("unknown payload encoding 'xml/plain'");
  }
}
