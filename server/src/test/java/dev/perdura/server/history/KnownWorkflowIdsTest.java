package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.ExecutionRow;
import dev.perdura.server.store.ExecutionWrite;
import dev.perdura.server.store.VisibilityRow;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The filter of workflow ids with a current run never misses one, and rules out most others. */
class KnownWorkflowIdsTest {
  private final SqliteStore store = SqliteStore.inMemory();

  @AfterEach
  void close() {
    store.close();
  }

  private void storeCurrentRuns(List<String> workflowIds) {
    store.migrate();
    List<ExecutionWrite> writes = new ArrayList<>();
    for (String workflowId : workflowIds) {
      ExecutionKey key = new ExecutionKey("default", workflowId, "run-" + workflowId);
      writes.add(new ExecutionWrite(new ExecutionRow(key, 1, new byte[0],
          new VisibilityRow("T", "q", 1, 1, 0, 1, 1, key.runId(), new byte[0], new byte[0])), 0, true, List.of(),
          false, false));
    }
    store.commit(writes);
  }

  private static String key(String workflowId) {
    return HistoryShard.currentKey("default", workflowId);
  }

  @Test
  void everyIdOfTheShardInTheStoreIsHeldAndMostNewIdsAreRuledOut() {
    List<String> stored = IntStream.range(0, 2_500).mapToObj(i -> "order-" + i).toList();
    storeCurrentRuns(stored);
    KnownWorkflowIds known = KnownWorkflowIds.sizedFor(0, 0);

    assertThat(known.mayHaveRun(key("order-1"))).as("unfilled, it rules nothing out").isTrue();
    assertThat(known.mayHaveRun(key("never-started"))).isTrue();

    // Pages of 100, and only the ids this "shard" owns: the even ones.
    known.fill(store, run -> Integer.parseInt(run.workflowId().substring(6)) % 2 == 0, 100);

    assertThat(stored.stream().filter(id -> Integer.parseInt(id.substring(6)) % 2 == 0))
        .allSatisfy(id -> assertThat(known.mayHaveRun(key(id))).as(id).isTrue());
    long falsePositives = IntStream.range(0, 10_000)
        .filter(i -> known.mayHaveRun(key("new-" + i)))
        .count();
    assertThat(falsePositives).as("of 10 000 ids never started").isLessThan(500);
  }

  @Test
  void anIdAddedByACommitIsHeld() {
    storeCurrentRuns(List.of());
    KnownWorkflowIds known = KnownWorkflowIds.sizedFor(0, 0);
    known.fill(store, run -> true, 100);
    assertThat(known.mayHaveRun(key("fresh"))).isFalse();

    known.add(key("fresh"));

    assertThat(known.mayHaveRun(key("fresh"))).isTrue();
    assertThat(known.full()).isFalse();
  }
}
