package dev.perdura.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database written before events were stored a change at a time still reads: its rows of one
 * event each come back in order with the rows written since.
 */
class SqliteHistoryRowsTest {
  @TempDir Path dir;

  @Test
  void rowsOfOneEventFromBeforeAreReadWithTheBatchesAfterThem() throws Exception {
    Path file = dir.resolve("perdura.db");
    ExecutionKey run = new ExecutionKey("ns", "wf", "run");
    VisibilityRow visibility = new VisibilityRow("T", "q", 1, 1, 0, 1, 3, "run", new byte[0], new byte[0]);
    try (SqliteStore store = SqliteStore.open(file)) {
      store.migrate();
      try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file);
          PreparedStatement insert = raw.prepareStatement("INSERT INTO history_events VALUES (?, ?, ?, ?, ?)")) {
        for (long id = 1; id <= 3; id++) {
          insert.setString(1, "ns");
          insert.setString(2, "wf");
          insert.setString(3, "run");
          insert.setLong(4, id);
          insert.setBytes(5, ("old-" + id).getBytes());
          insert.executeUpdate();
        }
      }
      store.commit(List.of(new ExecutionWrite(new ExecutionRow(run, 1, new byte[] {1}, visibility), 0, true,
          List.of(new EventRow(4, "new-4".getBytes()), new EventRow(5, "new-5".getBytes())), false, false)));

      assertThat(store.readEvents(run, 1, 100)).extracting(e -> new String(e.data()))
          .containsExactly("old-1", "old-2", "old-3", "new-4", "new-5");
      assertThat(store.readEvents(run, 3, 2)).extracting(EventRow::eventId).containsExactly(3L, 4L);

      store.commit(List.of(new ExecutionWrite(new ExecutionRow(run, 2, new byte[] {1}, visibility), 1, false,
          List.of(), false, true)));
      assertThat(store.readEvents(run, 1, 100)).as("purged, old rows and new").isEmpty();
    }
  }
}
