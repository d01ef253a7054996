package dev.perdura.server.common;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import dev.perdura.server.store.EventRow;
import io.temporal.api.history.v1.History;
import java.io.IOException;
import java.util.List;

/**
 * A response's {@code History} field made from the events' stored bytes. The events of a run are
 * serialized once, when they are written; a workflow task or a page of history then carries those
 * bytes instead of each event serialized again from its parsed form.
 *
 * <p>The field is set as an unknown field of the response under the {@code History} field's
 * number: on the wire that is the same field, so clients parse a plain {@code History}, while on
 * this side {@code getHistory()} of the built response stays empty. Only responses about to be
 * sent are built this way; code that reads events in this process parses them.
 *
 * <pre>{@code
 * PollWorkflowTaskQueueResponse.Builder response = PollWorkflowTaskQueueResponse.newBuilder();
 * HistoryBytes.set(response, PollWorkflowTaskQueueResponse.HISTORY_FIELD_NUMBER, events);
 * }</pre>
 */
public final class HistoryBytes {
  private static final int EVENTS_TAG = (History.EVENTS_FIELD_NUMBER << 3) | 2;

  private HistoryBytes() {}

  /** The bytes of a {@code History} message holding {@code events}, in order. */
  public static ByteString of(List<EventRow> events) {
    int size = 0;
    for (EventRow event : events) {
      size += 1 + CodedOutputStream.computeUInt32SizeNoTag(event.data().length) + event.data().length;
    }
    byte[] bytes = new byte[size];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      for (EventRow event : events) {
        out.writeUInt32NoTag(EVENTS_TAG);
        out.writeUInt32NoTag(event.data().length);
        out.writeRawBytes(event.data());
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("a history of " + size + " bytes did not fit its array", e);
    }
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  /**
   * Sets field {@code historyField} of {@code response}, a {@code History}, to {@code events};
   * returns {@code response}.
   */
  public static <B extends Message.Builder> B set(B response, int historyField, List<EventRow> events) {
    response.mergeUnknownFields(UnknownFieldSet.newBuilder()
        .addField(historyField, UnknownFieldSet.Field.newBuilder().addLengthDelimited(of(events)).build())
        .build());
    return response;
  }
}
