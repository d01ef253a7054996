package dev.perdura.server.store.jdbc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.perdura.server.store.EventRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The events one change appends, stored as one row: the bytes of a {@code History} message (each
 * event a length-delimited field 1), so any protobuf tool reads a row as a history. Ids are
 * contiguous from the row's first event id and are not stored again.
 */
public final class EventBatches {
  private static final int EVENTS_FIELD = 1;

  private EventBatches() {}

  /**
   * @throws IllegalArgumentException if the events' ids are not contiguous
   */
  public static byte[] encode(List<EventRow> events) {
    int size = 0;
    for (EventRow event : events) {
      size += CodedOutputStream.computeByteArraySize(EVENTS_FIELD, event.data());
    }
    // Sized exactly: a stream's default buffer was most of what a commit allocated.
    byte[] bytes = new byte[size];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    long expected = events.getFirst().eventId();
    try {
      for (EventRow event : events) {
        if (event.eventId() != expected) {
          throw new IllegalArgumentException("event ids of one write must be contiguous: expected " + expected
              + ", got " + event.eventId());
        }
        out.writeByteArray(EVENTS_FIELD, event.data());
        expected++;
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode events", e);
    }
    return bytes;
  }

  /** The events of a row, numbered from {@code firstEventId}. */
  static List<EventRow> decode(long firstEventId, byte[] data) {
    List<EventRow> events = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(data);
    try {
      while (!in.isAtEnd()) {
        int tag = in.readTag();
        if (tag != (EVENTS_FIELD << 3 | 2)) {
          throw new IllegalStateException("history batch of event " + firstEventId + " has an unknown field (tag "
              + tag + ")");
        }
        events.add(new EventRow(firstEventId + events.size(), in.readByteArray()));
      }
    } catch (IOException e) {
      throw new IllegalStateException("history batch of event " + firstEventId + " is unreadable: " + e.getMessage(),
          e);
    }
    return events;
  }
}
