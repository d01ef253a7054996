package dev.perdura.server.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StateCodecTest {
  private final Random random = new Random(42);

  /** Every field of the state gets a value different from its initial one, so a field the codec forgets fails. */
  @Test
  void everyFieldSurvivesTheRoundTrip() throws Exception {
    ExecutionState state = filled(ExecutionState.class);
    state.workflowTask = filled(ExecutionState.WorkflowTaskInfo.class);
    for (int i = 0; i < 3; i++) {
      ActivityInfo a = filled(ActivityInfo.class);
      state.activities.put(a.scheduledEventId, a);
      ExecutionState.TimerInfo t = filled(ExecutionState.TimerInfo.class);
      state.timers.put(t.timerId, t);
      ExecutionState.ChildInfo c = filled(ExecutionState.ChildInfo.class);
      state.children.put(c.initiatedEventId, c);
      ExecutionState.ExternalInfo x = filled(ExecutionState.ExternalInfo.class);
      state.externals.put(x.initiatedEventId, x);
    }
    state.recentRequestIds = List.of("r1", "r2");
    state.bufferedEvents = List.of(new byte[] {1, 2}, new byte[] {3});
    ExecutionKey run = new ExecutionKey(state.namespace, state.workflowId, state.runId);
    state.queuedTasks.add(new TaskRow(run, TaskKind.WORKFLOW, "q", 7, 2, 3, "tenant", 0.25f, 1_234));
    state.queuedTasks.add(new TaskRow(run, TaskKind.ACTIVITY, "q-act", 9, 1, 0, "", 0f, 1_235));
    state.armedTimers.put("wft-timeout:7:2", 5_000L);
    state.armedTimers.put("act-stc:9:1", 6_000L);

    ExecutionState decoded = StateCodec.decode(new StateCodec.Encoder().encode(state));

    assertThat(decoded).usingRecursiveComparison().isEqualTo(state);
    assertThat(new ArrayList<>(decoded.activities.keySet())).isEqualTo(new ArrayList<>(state.activities.keySet()));
    assertThat(new ArrayList<>(decoded.timers.keySet())).isEqualTo(new ArrayList<>(state.timers.keySet()));
    assertThat(decoded.queuedTasks).containsExactlyElementsOf(state.queuedTasks);
    assertThat(decoded.armedTimers).containsExactlyEntriesOf(state.armedTimers);
  }

  /**
   * The encoder reuses its buffers from one state to the next: states and embedded messages larger
   * than those buffers, and small ones after them, must come out whole and exactly as large as they are.
   */
  @Test
  void statesOfEverySizeRoundTripThroughTheReusedBuffers() throws Exception {
    ExecutionState small = new ExecutionState();
    small.workflowId = "small";
    StateCodec.Encoder encoder = new StateCodec.Encoder();
    byte[] smallBefore = encoder.encode(small);
    for (int size : new int[] {10, 1_500, 40_000, 200_000}) {
      ExecutionState state = filled(ExecutionState.class);
      state.memo = new byte[size];
      random.nextBytes(state.memo);
      ActivityInfo a = filled(ActivityInfo.class);
      a.heartbeatDetails = new byte[size];
      random.nextBytes(a.heartbeatDetails);
      state.activities.put(a.scheduledEventId, a);

      ExecutionState decoded = StateCodec.decode(encoder.encode(state));

      assertThat(decoded).as("state with %d-byte fields", size).usingRecursiveComparison().isEqualTo(state);
      assertThat(encoder.encode(small)).as("a small state after one of %d bytes", size).isEqualTo(smallBefore);
    }
  }

  @Test
  void aStateFromBeforeTasksAndTimersWereKeptInItSaysSo() {
    ExecutionState current = new ExecutionState();
    assertThat(StateCodec.decode(new StateCodec.Encoder().encode(current)).holdsTasksAndTimers).isTrue();
    ExecutionState older = new ExecutionState();
    older.holdsTasksAndTimers = false;
    assertThat(StateCodec.decode(new StateCodec.Encoder().encode(older)).holdsTasksAndTimers).isFalse();
  }

  @Test
  void initialValuesSurviveTheRoundTrip() {
    ExecutionState state = new ExecutionState();
    ActivityInfo a = new ActivityInfo();
    a.scheduledEventId = 5;
    a.activityId = "a";
    state.activities.put(5L, a);

    ExecutionState decoded = StateCodec.decode(new StateCodec.Encoder().encode(state));

    assertThat(decoded).usingRecursiveComparison().isEqualTo(state);
    assertThat(decoded.nextEventId).isEqualTo(1);
    assertThat(decoded.workflowTask).isNull();
    assertThat(decoded.stickyQueue).isNull();
  }

  @Test
  void zeroesWhereTheInitialValueIsNotZeroAreKept() {
    ExecutionState state = new ExecutionState();
    state.status = 0;
    state.workflowTaskAttempt = 0;
    ActivityInfo a = new ActivityInfo();
    a.attempt = 0;
    state.activities.put(0L, a);

    ExecutionState decoded = StateCodec.decode(new StateCodec.Encoder().encode(state));

    assertThat(decoded.status).isZero();
    assertThat(decoded.workflowTaskAttempt).isZero();
    assertThat(decoded.activities.get(0L).attempt).isZero();
  }

  @Test
  void rowsWrittenAsJsonBeforeTheBinaryFormatAreStillRead() throws Exception {
    ExecutionState state = filled(ExecutionState.class);
    ActivityInfo a = filled(ActivityInfo.class);
    state.activities.put(a.scheduledEventId, a);
    ObjectMapper json = new ObjectMapper()
        .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
        .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);
    byte[] legacy = json.writeValueAsBytes(state);
    // Those rows predate tasks and timers in the state: they are rows of their own.
    state.holdsTasksAndTimers = false;

    ExecutionState decoded = StateCodec.decode(legacy);

    assertThat(decoded).usingRecursiveComparison().isEqualTo(state);
    assertThat(StateCodec.decode(new StateCodec.Encoder().encode(decoded))).usingRecursiveComparison().isEqualTo(state);
  }

  @Test
  void fieldsFromANewerVersionAreSkipped() {
    ExecutionState state = new ExecutionState();
    state.workflowId = "wf";
    byte[] encoded = new StateCodec.Encoder().encode(state);
    byte[] extended = new byte[encoded.length + 3];
    System.arraycopy(encoded, 0, extended, 0, encoded.length);
    // field 1000, varint 7: tag (1000 << 3) as a varint is 0xC0 0x3E
    extended[encoded.length] = (byte) 0xC0;
    extended[encoded.length + 1] = 0x3E;
    extended[encoded.length + 2] = 7;

    assertThat(StateCodec.decode(extended).workflowId).isEqualTo("wf");
  }

  @Test
  void unknownFormatsAreRefusedWithAClearMessage() {
    assertThatThrownBy(() -> StateCodec.decode("\u0007garbage".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("unknown format");
  }

  private <T> T filled(Class<T> type) throws Exception {
    var constructor = type.getDeclaredConstructor();
    constructor.setAccessible(true);
    T value = constructor.newInstance();
    for (Field f : type.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
        continue;
      }
      f.setAccessible(true);
      Class<?> t = f.getType();
      if (t == String.class) {
        f.set(value, f.getName() + "-" + random.nextInt(1000));
      } else if (t == long.class) {
        f.setLong(value, 1_000_000L + random.nextInt(1_000_000));
      } else if (t == int.class) {
        f.setInt(value, 2 + random.nextInt(1000));
      } else if (t == boolean.class) {
        f.setBoolean(value, true);
      } else if (t == byte[].class) {
        byte[] bytes = new byte[1 + random.nextInt(8)];
        random.nextBytes(bytes);
        f.set(value, bytes);
      }
    }
    return value;
  }
}
