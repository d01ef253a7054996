package dev.perdura.server.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.EventRow;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventBatchesTest {
  @Test
  void eventsOfAnySizeComeBackWithTheirIds() {
    Random random = new Random(7);
    byte[] empty = new byte[0];
    byte[] small = new byte[] {1, 2, 3};
    byte[] large = new byte[70_000];
    random.nextBytes(large);
    List<EventRow> events = List.of(new EventRow(5, small), new EventRow(6, empty), new EventRow(7, large));

    byte[] encoded = EventBatches.encode(events);
    List<EventRow> decoded = EventBatches.decode(5, encoded);

    assertThat(decoded).extracting(EventRow::eventId).containsExactly(5L, 6L, 7L);
    assertThat(decoded).extracting(EventRow::data).containsExactly(small, empty, large);
    // field 1 (1 byte tag) with a length varint of 1, 1 and 3 bytes: no slack in the row
    assertThat(encoded).hasSize(3 + 2 + 0 + 2 + 70_000 + 4);
  }

  @Test
  void idsThatAreNotContiguousAreRefused() {
    assertThatThrownBy(() -> EventBatches.encode(List.of(new EventRow(1, new byte[] {1}), new EventRow(3, new byte[] {2}))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected 2, got 3");
  }
}
