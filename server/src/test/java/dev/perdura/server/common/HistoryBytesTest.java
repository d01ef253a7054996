package dev.perdura.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.perdura.server.store.EventRow;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.History;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.WorkflowExecutionStartedEventAttributes;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryBytesTest {
  @Test
  void aResponseCarryingStoredBytesIsTheResponseWithTheParsedHistory() throws Exception {
    List<HistoryEvent> events = new ArrayList<>();
    // One event past 127 bytes, so that its length takes two bytes on the wire.
    events.add(HistoryEvent.newBuilder().setEventId(1).setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
        .setWorkflowExecutionStartedEventAttributes(WorkflowExecutionStartedEventAttributes.newBuilder()
            .setInput(Payloads.newBuilder().addPayloads(Payload.newBuilder()
                .putMetadata("encoding", ByteString.copyFromUtf8("json/plain"))
                .setData(ByteString.copyFromUtf8("x".repeat(300))))))
        .build());
    events.add(HistoryEvent.newBuilder().setEventId(2).setEventType(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED).build());
    List<EventRow> rows = events.stream().map(e -> new EventRow(e.getEventId(), e.toByteArray())).toList();

    PollWorkflowTaskQueueResponse.Builder withBytes = PollWorkflowTaskQueueResponse.newBuilder().setStartedEventId(3);
    HistoryBytes.set(withBytes, PollWorkflowTaskQueueResponse.HISTORY_FIELD_NUMBER, rows);
    PollWorkflowTaskQueueResponse parsed = PollWorkflowTaskQueueResponse.newBuilder().setStartedEventId(3)
        .setHistory(History.newBuilder().addAllEvents(events)).build();

    assertThat(withBytes.build().toByteString()).isEqualTo(parsed.toByteString());
    PollWorkflowTaskQueueResponse received = PollWorkflowTaskQueueResponse.parseFrom(withBytes.build().toByteString());
    assertThat(received.getHistory().getEventsList()).isEqualTo(events);
    assertThat(received.getUnknownFields().asMap()).isEmpty();
  }

  @Test
  void noEventsIsAnEmptyHistory() throws Exception {
    GetWorkflowExecutionHistoryResponse response = HistoryBytes.set(GetWorkflowExecutionHistoryResponse.newBuilder(),
        GetWorkflowExecutionHistoryResponse.HISTORY_FIELD_NUMBER, List.of()).build();
    GetWorkflowExecutionHistoryResponse received = GetWorkflowExecutionHistoryResponse.parseFrom(response.toByteString());
    assertThat(received.hasHistory()).isTrue();
    assertThat(received.getHistory().getEventsList()).isEmpty();
    assertThat(HistoryBytes.of(List.of())).isEqualTo(ByteString.EMPTY);
  }
}
