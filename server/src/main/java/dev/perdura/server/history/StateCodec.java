package dev.perdura.server.history;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Turns {@link ExecutionState} into the bytes stored in the execution row, and back.
 *
 * <p>The format is one marker byte ({@value #BINARY}) followed by a message in the protobuf wire
 * format, written field by field with protobuf's coded streams (no generated classes): every field
 * has a fixed number below, absent fields keep their defaults and unknown fields are skipped, so
 * fields can be added without a migration. Field numbers are never reused.
 *
 * <p>Rows written before this format hold JSON (they start with <code>'{'</code>) and are still
 * read; the next change of such a run rewrites it in the binary format.
 *
 * <p>It runs on every change of a run (decode on load, encode on commit), which is why it is
 * hand-laid instead of reflective: the JSON codec took a quarter of the server's CPU under load.
 */
final class StateCodec {
  static final byte BINARY = 1;

  private static final ObjectMapper LEGACY_JSON =
      new ObjectMapper()
          .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
          .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  // ExecutionState
  private static final int NAMESPACE = 1;
  private static final int WORKFLOW_ID = 2;
  private static final int RUN_ID = 3;
  private static final int FIRST_RUN_ID = 4;
  private static final int WORKFLOW_TYPE = 5;
  private static final int TASK_QUEUE = 6;
  private static final int STATUS = 7;
  private static final int START_TIME = 8;
  private static final int CLOSE_TIME = 9;
  private static final int EXECUTION_TIME = 10;
  private static final int NEXT_EVENT_ID = 11;
  private static final int HISTORY_SIZE_BYTES = 12;
  private static final int LAST_COMPLETED_WFT_STARTED_ID = 13;
  private static final int START_REQUEST_ID = 14;
  private static final int RECENT_REQUEST_ID = 15;
  private static final int CANCEL_REQUESTED = 16;
  private static final int WORKFLOW_TASK_TIMEOUT = 17;
  private static final int RUN_TIMEOUT = 18;
  private static final int EXECUTION_TIMEOUT = 19;
  private static final int RUN_DEADLINE = 20;
  private static final int EXECUTION_DEADLINE = 21;
  private static final int MEMO = 22;
  private static final int SEARCH_ATTRIBUTES = 23;
  private static final int PRIORITY = 24;
  private static final int WORKFLOW_TASK = 25;
  private static final int WORKFLOW_TASK_ATTEMPT = 26;
  private static final int BUFFERED_EVENT = 27;
  private static final int ACTIVITY = 28;
  private static final int TIMER = 29;
  private static final int STICKY_QUEUE = 30;
  private static final int STICKY_SCHEDULE_TO_START = 31;
  private static final int CONTINUED_RUN_ID = 32;
  private static final int PARENT_NAMESPACE = 33;
  private static final int PARENT_WORKFLOW_ID = 34;
  private static final int PARENT_RUN_ID = 35;
  private static final int PARENT_INITIATED_EVENT_ID = 36;
  private static final int CHILD = 37;
  private static final int EXTERNAL = 38;
  private static final int RETRY_POLICY = 39;
  private static final int ATTEMPT = 40;
  private static final int RETRY_INPUT = 41;
  private static final int RETRY_HEADER = 42;
  private static final int QUEUED_TASK = 43;
  private static final int ARMED_TIMER = 44;
  private static final int HOLDS_TASKS_AND_TIMERS = 45;

  // A queued task (TaskRow without its run, which is the state's)
  private static final int Q_KIND = 1;
  private static final int Q_TASK_QUEUE = 2;
  private static final int Q_SCHEDULED_EVENT_ID = 3;
  private static final int Q_ATTEMPT = 4;
  private static final int Q_PRIORITY_KEY = 5;
  private static final int Q_FAIRNESS_KEY = 6;
  private static final int Q_FAIRNESS_WEIGHT = 7;
  private static final int Q_CREATED_AT = 8;
  private static final int Q_KIND_WORKFLOW = 1;
  private static final int Q_KIND_ACTIVITY = 2;

  // An armed timer
  private static final int AT_KEY = 1;
  private static final int AT_FIRE_AT = 2;

  // ExternalInfo
  private static final int X_INITIATED_EVENT_ID = 1;
  private static final int X_CANCEL = 2;
  private static final int X_NAMESPACE = 3;
  private static final int X_WORKFLOW_ID = 4;
  private static final int X_RUN_ID = 5;
  private static final int X_CHILD_WORKFLOW_ONLY = 6;
  private static final int X_COMMAND = 7;

  // ChildInfo
  private static final int C_INITIATED_EVENT_ID = 1;
  private static final int C_NAMESPACE = 2;
  private static final int C_WORKFLOW_ID = 3;
  private static final int C_WORKFLOW_TYPE = 4;
  private static final int C_RUN_ID = 5;
  private static final int C_STARTED_EVENT_ID = 6;
  private static final int C_PARENT_CLOSE_POLICY = 7;
  private static final int C_COMMAND = 8;

  // WorkflowTaskInfo
  private static final int WT_SCHEDULED_EVENT_ID = 1;
  private static final int WT_STARTED_EVENT_ID = 2;
  private static final int WT_ATTEMPT = 3;
  private static final int WT_STARTED = 4;
  private static final int WT_SCHEDULED_TIME = 5;
  private static final int WT_STARTED_TIME = 6;
  private static final int WT_TASK_QUEUE = 7;
  private static final int WT_START_TO_CLOSE = 8;
  private static final int WT_STICKY = 9;

  // TimerInfo
  private static final int TIMER_ID = 1;
  private static final int TIMER_STARTED_EVENT_ID = 2;
  private static final int TIMER_FIRE_TIME = 3;

  // ActivityInfo
  private static final int A_SCHEDULED_EVENT_ID = 1;
  private static final int A_ACTIVITY_ID = 2;
  private static final int A_ACTIVITY_TYPE = 3;
  private static final int A_TASK_QUEUE = 4;
  private static final int A_SCHEDULE_TO_CLOSE = 5;
  private static final int A_SCHEDULE_TO_START = 6;
  private static final int A_START_TO_CLOSE = 7;
  private static final int A_HEARTBEAT = 8;
  private static final int A_RETRY_POLICY = 9;
  private static final int A_PRIORITY = 10;
  private static final int A_ATTEMPT = 11;
  private static final int A_STARTED = 12;
  private static final int A_WAITING_FOR_RETRY = 13;
  private static final int A_FIRST_SCHEDULED_TIME = 14;
  private static final int A_SCHEDULED_TIME = 15;
  private static final int A_STARTED_TIME = 16;
  private static final int A_STARTED_IDENTITY = 17;
  private static final int A_STARTED_REQUEST_ID = 18;
  private static final int A_HEARTBEAT_DETAILS = 19;
  private static final int A_LAST_HEARTBEAT_TIME = 20;
  private static final int A_CANCEL_REQUESTED = 21;
  private static final int A_CANCEL_REQUESTED_EVENT_ID = 22;
  private static final int A_LAST_FAILURE = 23;
  private static final int A_LAST_ATTEMPT_COMPLETE_TIME = 24;
  private static final int A_PAUSED = 25;
  private static final int A_PAUSED_TIME = 26;
  private static final int A_PAUSED_BY = 27;
  private static final int A_PAUSE_REASON = 28;
  private static final int A_RESET_REQUESTED = 29;

  private StateCodec() {}

  /** Writes one embedded message's fields. */
  private interface Fields {
    void write(CodedOutputStream out) throws IOException;
  }

  /**
   * Encodes states into buffers it reuses: a state is written into them and copied out at its
   * exact size. Allocating a buffer and a stream per message made up most of what a change
   * allocated. Not thread-safe: a history shard keeps one for the holder of its processing lock.
   */
  static final class Encoder {
    /** Buffers grown past this for an unusually large state are not kept. */
    private static final int KEPT = 64 * 1024;
    private static final int STATE_SIZE = 1024;
    private static final int NESTED_SIZE = 256;
    private byte[] state = new byte[STATE_SIZE];
    private byte[] nested = new byte[NESTED_SIZE];

    byte[] encode(ExecutionState s) {
      while (true) {
        state[0] = BINARY;
        CodedOutputStream out = CodedOutputStream.newInstance(state, 1, state.length - 1);
        try {
          writeState(out, s);
          byte[] encoded = Arrays.copyOf(state, 1 + out.getTotalBytesWritten());
          if (state.length > KEPT) {
            state = new byte[STATE_SIZE];
          }
          if (nested.length > KEPT) {
            nested = new byte[NESTED_SIZE];
          }
          return encoded;
        } catch (CodedOutputStream.OutOfSpaceException e) {
          state = new byte[state.length * 2];
        } catch (IOException e) {
          throw new UncheckedIOException("cannot encode state of " + s.workflowId, e);
        }
      }
    }

    /**
     * Writes {@code fields} as an embedded message (length-delimited field {@code field}). Embedded
     * messages hold no embedded messages of their own, so one nested buffer is enough.
     */
    private void message(CodedOutputStream out, int field, Fields fields) throws IOException {
      while (true) {
        CodedOutputStream into = CodedOutputStream.newInstance(nested);
        try {
          fields.write(into);
        } catch (CodedOutputStream.OutOfSpaceException e) {
          nested = new byte[nested.length * 2];
          continue;
        }
        out.writeByteArray(field, nested, 0, into.getTotalBytesWritten());
        return;
      }
    }

    private void writeState(CodedOutputStream out, ExecutionState s) throws IOException {
      string(out, NAMESPACE, s.namespace);
      string(out, WORKFLOW_ID, s.workflowId);
      string(out, RUN_ID, s.runId);
      string(out, FIRST_RUN_ID, s.firstRunId);
      string(out, WORKFLOW_TYPE, s.workflowType);
      string(out, TASK_QUEUE, s.taskQueue);
      out.writeInt64(STATUS, s.status);
      int64(out, START_TIME, s.startTime);
      int64(out, CLOSE_TIME, s.closeTime);
      int64(out, EXECUTION_TIME, s.executionTime);
      out.writeInt64(NEXT_EVENT_ID, s.nextEventId);
      int64(out, HISTORY_SIZE_BYTES, s.historySizeBytes);
      int64(out, LAST_COMPLETED_WFT_STARTED_ID, s.lastCompletedWftStartedId);
      string(out, START_REQUEST_ID, s.startRequestId);
      for (String id : s.recentRequestIds) {
        out.writeString(RECENT_REQUEST_ID, id);
      }
      bool(out, CANCEL_REQUESTED, s.cancelRequested);
      int64(out, WORKFLOW_TASK_TIMEOUT, s.workflowTaskTimeoutMillis);
      int64(out, RUN_TIMEOUT, s.runTimeoutMillis);
      int64(out, EXECUTION_TIMEOUT, s.executionTimeoutMillis);
      int64(out, RUN_DEADLINE, s.runDeadline);
      int64(out, EXECUTION_DEADLINE, s.executionDeadline);
      bytes(out, MEMO, s.memo);
      bytes(out, SEARCH_ATTRIBUTES, s.searchAttributes);
      bytes(out, PRIORITY, s.priority);
      if (s.workflowTask != null) {
        message(out, WORKFLOW_TASK, m -> write(m, s.workflowTask));
      }
      out.writeInt64(WORKFLOW_TASK_ATTEMPT, s.workflowTaskAttempt);
      for (byte[] event : s.bufferedEvents) {
        out.writeByteArray(BUFFERED_EVENT, event);
      }
      for (ActivityInfo a : s.activities.values()) {
        message(out, ACTIVITY, m -> write(m, a));
      }
      for (ExecutionState.TimerInfo t : s.timers.values()) {
        message(out, TIMER, m -> write(m, t));
      }
      string(out, STICKY_QUEUE, s.stickyQueue);
      int64(out, STICKY_SCHEDULE_TO_START, s.stickyScheduleToStartMillis);
      string(out, CONTINUED_RUN_ID, s.continuedRunId);
      string(out, PARENT_NAMESPACE, s.parentNamespace);
      string(out, PARENT_WORKFLOW_ID, s.parentWorkflowId);
      string(out, PARENT_RUN_ID, s.parentRunId);
      int64(out, PARENT_INITIATED_EVENT_ID, s.parentInitiatedEventId);
      for (ExecutionState.ChildInfo c : s.children.values()) {
        message(out, CHILD, m -> write(m, c));
      }
      for (ExecutionState.ExternalInfo x : s.externals.values()) {
        message(out, EXTERNAL, m -> write(m, x));
      }
      bytes(out, RETRY_POLICY, s.retryPolicy);
      int64(out, ATTEMPT, s.attempt);
      bytes(out, RETRY_INPUT, s.retryInput);
      bytes(out, RETRY_HEADER, s.retryHeader);
      for (TaskRow t : s.queuedTasks) {
        message(out, QUEUED_TASK, m -> write(m, t));
      }
      for (Map.Entry<String, Long> timer : s.armedTimers.entrySet()) {
        message(out, ARMED_TIMER, m -> writeArmedTimer(m, timer.getKey(), timer.getValue()));
      }
      bool(out, HOLDS_TASKS_AND_TIMERS, s.holdsTasksAndTimers);
    }
  }

  static ExecutionState decode(byte[] bytes) {
    if (bytes.length > 0 && bytes[0] == '{') {
      return decodeLegacyJson(bytes);
    }
    if (bytes.length == 0 || bytes[0] != BINARY) {
      throw new IllegalStateException(
          "stored execution state has an unknown format (first byte "
              + (bytes.length == 0 ? "missing" : Integer.toString(bytes[0]))
              + ")");
    }
    ExecutionState s = new ExecutionState();
    // Absent in states written before the run's tasks and timers were kept in them.
    s.holdsTasksAndTimers = false;
    List<byte[]> queued = new ArrayList<>();
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes, 1, bytes.length - 1);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        switch (WireFormat.getTagFieldNumber(tag)) {
          case NAMESPACE -> s.namespace = in.readStringRequireUtf8();
          case WORKFLOW_ID -> s.workflowId = in.readStringRequireUtf8();
          case RUN_ID -> s.runId = in.readStringRequireUtf8();
          case FIRST_RUN_ID -> s.firstRunId = in.readStringRequireUtf8();
          case WORKFLOW_TYPE -> s.workflowType = in.readStringRequireUtf8();
          case TASK_QUEUE -> s.taskQueue = in.readStringRequireUtf8();
          case STATUS -> s.status = (int) in.readInt64();
          case START_TIME -> s.startTime = in.readInt64();
          case CLOSE_TIME -> s.closeTime = in.readInt64();
          case EXECUTION_TIME -> s.executionTime = in.readInt64();
          case NEXT_EVENT_ID -> s.nextEventId = in.readInt64();
          case HISTORY_SIZE_BYTES -> s.historySizeBytes = in.readInt64();
          case LAST_COMPLETED_WFT_STARTED_ID -> s.lastCompletedWftStartedId = in.readInt64();
          case START_REQUEST_ID -> s.startRequestId = in.readStringRequireUtf8();
          case RECENT_REQUEST_ID -> s.recentRequestIds.add(in.readStringRequireUtf8());
          case CANCEL_REQUESTED -> s.cancelRequested = in.readBool();
          case WORKFLOW_TASK_TIMEOUT -> s.workflowTaskTimeoutMillis = in.readInt64();
          case RUN_TIMEOUT -> s.runTimeoutMillis = in.readInt64();
          case EXECUTION_TIMEOUT -> s.executionTimeoutMillis = in.readInt64();
          case RUN_DEADLINE -> s.runDeadline = in.readInt64();
          case EXECUTION_DEADLINE -> s.executionDeadline = in.readInt64();
          case MEMO -> s.memo = in.readByteArray();
          case SEARCH_ATTRIBUTES -> s.searchAttributes = in.readByteArray();
          case PRIORITY -> s.priority = in.readByteArray();
          case WORKFLOW_TASK -> s.workflowTask = decodeWorkflowTask(in.readByteArray());
          case WORKFLOW_TASK_ATTEMPT -> s.workflowTaskAttempt = (int) in.readInt64();
          case BUFFERED_EVENT -> s.bufferedEvents.add(in.readByteArray());
          case ACTIVITY -> {
            ActivityInfo a = decodeActivity(in.readByteArray());
            s.activities.put(a.scheduledEventId, a);
          }
          case TIMER -> {
            ExecutionState.TimerInfo t = decodeTimer(in.readByteArray());
            s.timers.put(t.timerId, t);
          }
          case STICKY_QUEUE -> s.stickyQueue = in.readStringRequireUtf8();
          case STICKY_SCHEDULE_TO_START -> s.stickyScheduleToStartMillis = in.readInt64();
          case CONTINUED_RUN_ID -> s.continuedRunId = in.readStringRequireUtf8();
          case PARENT_NAMESPACE -> s.parentNamespace = in.readStringRequireUtf8();
          case PARENT_WORKFLOW_ID -> s.parentWorkflowId = in.readStringRequireUtf8();
          case PARENT_RUN_ID -> s.parentRunId = in.readStringRequireUtf8();
          case PARENT_INITIATED_EVENT_ID -> s.parentInitiatedEventId = in.readInt64();
          case CHILD -> {
            ExecutionState.ChildInfo c = decodeChild(in.readByteArray());
            s.children.put(c.initiatedEventId, c);
          }
          case EXTERNAL -> {
            ExecutionState.ExternalInfo x = decodeExternal(in.readByteArray());
            s.externals.put(x.initiatedEventId, x);
          }
          case RETRY_POLICY -> s.retryPolicy = in.readByteArray();
          case ATTEMPT -> s.attempt = (int) in.readInt64();
          case RETRY_INPUT -> s.retryInput = in.readByteArray();
          case RETRY_HEADER -> s.retryHeader = in.readByteArray();
          case QUEUED_TASK -> queued.add(in.readByteArray());
          case ARMED_TIMER -> decodeArmedTimer(in.readByteArray(), s.armedTimers);
          case HOLDS_TASKS_AND_TIMERS -> s.holdsTasksAndTimers = in.readBool();
          default -> in.skipField(tag);
        }
      }
      // After the loop: a task names its run, whose id fields may come anywhere in the message.
      if (!queued.isEmpty()) {
        ExecutionKey key = new ExecutionKey(s.namespace, s.workflowId, s.runId);
        for (byte[] task : queued) {
          s.queuedTasks.add(decodeQueuedTask(task, key));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("stored execution state is unreadable", e);
    }
    return s;
  }

  private static void write(CodedOutputStream out, ExecutionState.WorkflowTaskInfo t) throws IOException {
    int64(out, WT_SCHEDULED_EVENT_ID, t.scheduledEventId);
    int64(out, WT_STARTED_EVENT_ID, t.startedEventId);
    int64(out, WT_ATTEMPT, t.attempt);
    bool(out, WT_STARTED, t.started);
    int64(out, WT_SCHEDULED_TIME, t.scheduledTime);
    int64(out, WT_STARTED_TIME, t.startedTime);
    string(out, WT_TASK_QUEUE, t.taskQueue);
    int64(out, WT_START_TO_CLOSE, t.startToCloseMillis);
    bool(out, WT_STICKY, t.sticky);
  }

  private static ExecutionState.WorkflowTaskInfo decodeWorkflowTask(byte[] bytes) throws IOException {
    ExecutionState.WorkflowTaskInfo t = new ExecutionState.WorkflowTaskInfo();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case WT_SCHEDULED_EVENT_ID -> t.scheduledEventId = in.readInt64();
        case WT_STARTED_EVENT_ID -> t.startedEventId = in.readInt64();
        case WT_ATTEMPT -> t.attempt = (int) in.readInt64();
        case WT_STARTED -> t.started = in.readBool();
        case WT_SCHEDULED_TIME -> t.scheduledTime = in.readInt64();
        case WT_STARTED_TIME -> t.startedTime = in.readInt64();
        case WT_TASK_QUEUE -> t.taskQueue = in.readStringRequireUtf8();
        case WT_START_TO_CLOSE -> t.startToCloseMillis = in.readInt64();
        case WT_STICKY -> t.sticky = in.readBool();
        default -> in.skipField(tag);
      }
    }
    return t;
  }

  private static void write(CodedOutputStream out, ExecutionState.ChildInfo c) throws IOException {
    int64(out, C_INITIATED_EVENT_ID, c.initiatedEventId);
    string(out, C_NAMESPACE, c.namespace);
    string(out, C_WORKFLOW_ID, c.workflowId);
    string(out, C_WORKFLOW_TYPE, c.workflowType);
    string(out, C_RUN_ID, c.runId);
    int64(out, C_STARTED_EVENT_ID, c.startedEventId);
    int64(out, C_PARENT_CLOSE_POLICY, c.parentClosePolicy);
    bytes(out, C_COMMAND, c.command);
  }

  private static ExecutionState.ChildInfo decodeChild(byte[] bytes) throws IOException {
    ExecutionState.ChildInfo c = new ExecutionState.ChildInfo();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case C_INITIATED_EVENT_ID -> c.initiatedEventId = in.readInt64();
        case C_NAMESPACE -> c.namespace = in.readStringRequireUtf8();
        case C_WORKFLOW_ID -> c.workflowId = in.readStringRequireUtf8();
        case C_WORKFLOW_TYPE -> c.workflowType = in.readStringRequireUtf8();
        case C_RUN_ID -> c.runId = in.readStringRequireUtf8();
        case C_STARTED_EVENT_ID -> c.startedEventId = in.readInt64();
        case C_PARENT_CLOSE_POLICY -> c.parentClosePolicy = (int) in.readInt64();
        case C_COMMAND -> c.command = in.readByteArray();
        default -> in.skipField(tag);
      }
    }
    return c;
  }

  private static void write(CodedOutputStream out, ExecutionState.ExternalInfo x) throws IOException {
    int64(out, X_INITIATED_EVENT_ID, x.initiatedEventId);
    bool(out, X_CANCEL, x.cancel);
    string(out, X_NAMESPACE, x.namespace);
    string(out, X_WORKFLOW_ID, x.workflowId);
    string(out, X_RUN_ID, x.runId);
    bool(out, X_CHILD_WORKFLOW_ONLY, x.childWorkflowOnly);
    bytes(out, X_COMMAND, x.command);
  }

  private static ExecutionState.ExternalInfo decodeExternal(byte[] bytes) throws IOException {
    ExecutionState.ExternalInfo x = new ExecutionState.ExternalInfo();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case X_INITIATED_EVENT_ID -> x.initiatedEventId = in.readInt64();
        case X_CANCEL -> x.cancel = in.readBool();
        case X_NAMESPACE -> x.namespace = in.readStringRequireUtf8();
        case X_WORKFLOW_ID -> x.workflowId = in.readStringRequireUtf8();
        case X_RUN_ID -> x.runId = in.readStringRequireUtf8();
        case X_CHILD_WORKFLOW_ONLY -> x.childWorkflowOnly = in.readBool();
        case X_COMMAND -> x.command = in.readByteArray();
        default -> in.skipField(tag);
      }
    }
    return x;
  }

  private static void write(CodedOutputStream out, ExecutionState.TimerInfo t) throws IOException {
    string(out, TIMER_ID, t.timerId);
    int64(out, TIMER_STARTED_EVENT_ID, t.startedEventId);
    int64(out, TIMER_FIRE_TIME, t.fireTime);
  }

  private static ExecutionState.TimerInfo decodeTimer(byte[] bytes) throws IOException {
    ExecutionState.TimerInfo t = new ExecutionState.TimerInfo();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case TIMER_ID -> t.timerId = in.readStringRequireUtf8();
        case TIMER_STARTED_EVENT_ID -> t.startedEventId = in.readInt64();
        case TIMER_FIRE_TIME -> t.fireTime = in.readInt64();
        default -> in.skipField(tag);
      }
    }
    return t;
  }

  private static void write(CodedOutputStream out, TaskRow t) throws IOException {
    out.writeInt64(Q_KIND, switch (t.kind()) {
      case WORKFLOW -> Q_KIND_WORKFLOW;
      case ACTIVITY -> Q_KIND_ACTIVITY;
    });
    string(out, Q_TASK_QUEUE, t.taskQueue());
    int64(out, Q_SCHEDULED_EVENT_ID, t.scheduledEventId());
    int64(out, Q_ATTEMPT, t.attempt());
    int64(out, Q_PRIORITY_KEY, t.priorityKey());
    string(out, Q_FAIRNESS_KEY, t.fairnessKey());
    if (t.fairnessWeight() != 0f) {
      out.writeFloat(Q_FAIRNESS_WEIGHT, t.fairnessWeight());
    }
    int64(out, Q_CREATED_AT, t.createdAtMillis());
  }

  private static TaskRow decodeQueuedTask(byte[] bytes, ExecutionKey key) throws IOException {
    TaskKind kind = TaskKind.WORKFLOW;
    String taskQueue = "";
    long scheduledEventId = 0;
    int attempt = 0;
    int priorityKey = 0;
    String fairnessKey = "";
    float fairnessWeight = 0f;
    long createdAt = 0;
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case Q_KIND -> kind = in.readInt64() == Q_KIND_ACTIVITY ? TaskKind.ACTIVITY : TaskKind.WORKFLOW;
        case Q_TASK_QUEUE -> taskQueue = in.readStringRequireUtf8();
        case Q_SCHEDULED_EVENT_ID -> scheduledEventId = in.readInt64();
        case Q_ATTEMPT -> attempt = (int) in.readInt64();
        case Q_PRIORITY_KEY -> priorityKey = (int) in.readInt64();
        case Q_FAIRNESS_KEY -> fairnessKey = in.readStringRequireUtf8();
        case Q_FAIRNESS_WEIGHT -> fairnessWeight = in.readFloat();
        case Q_CREATED_AT -> createdAt = in.readInt64();
        default -> in.skipField(tag);
      }
    }
    return new TaskRow(key, kind, taskQueue, scheduledEventId, attempt, priorityKey, fairnessKey, fairnessWeight,
        createdAt);
  }

  private static void writeArmedTimer(CodedOutputStream out, String key, long fireAt) throws IOException {
    string(out, AT_KEY, key);
    int64(out, AT_FIRE_AT, fireAt);
  }

  private static void decodeArmedTimer(byte[] bytes, Map<String, Long> into) throws IOException {
    String key = "";
    long fireAt = 0;
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case AT_KEY -> key = in.readStringRequireUtf8();
        case AT_FIRE_AT -> fireAt = in.readInt64();
        default -> in.skipField(tag);
      }
    }
    into.put(key, fireAt);
  }

  private static void write(CodedOutputStream out, ActivityInfo a) throws IOException {
    int64(out, A_SCHEDULED_EVENT_ID, a.scheduledEventId);
    string(out, A_ACTIVITY_ID, a.activityId);
    string(out, A_ACTIVITY_TYPE, a.activityType);
    string(out, A_TASK_QUEUE, a.taskQueue);
    int64(out, A_SCHEDULE_TO_CLOSE, a.scheduleToCloseMillis);
    int64(out, A_SCHEDULE_TO_START, a.scheduleToStartMillis);
    int64(out, A_START_TO_CLOSE, a.startToCloseMillis);
    int64(out, A_HEARTBEAT, a.heartbeatMillis);
    bytes(out, A_RETRY_POLICY, a.retryPolicy);
    bytes(out, A_PRIORITY, a.priority);
    out.writeInt64(A_ATTEMPT, a.attempt);
    bool(out, A_STARTED, a.started);
    bool(out, A_WAITING_FOR_RETRY, a.waitingForRetry);
    int64(out, A_FIRST_SCHEDULED_TIME, a.firstScheduledTime);
    int64(out, A_SCHEDULED_TIME, a.scheduledTime);
    int64(out, A_STARTED_TIME, a.startedTime);
    string(out, A_STARTED_IDENTITY, a.startedIdentity);
    string(out, A_STARTED_REQUEST_ID, a.startedRequestId);
    bytes(out, A_HEARTBEAT_DETAILS, a.heartbeatDetails);
    int64(out, A_LAST_HEARTBEAT_TIME, a.lastHeartbeatTime);
    bool(out, A_CANCEL_REQUESTED, a.cancelRequested);
    int64(out, A_CANCEL_REQUESTED_EVENT_ID, a.cancelRequestedEventId);
    bytes(out, A_LAST_FAILURE, a.lastFailure);
    int64(out, A_LAST_ATTEMPT_COMPLETE_TIME, a.lastAttemptCompleteTime);
    bool(out, A_PAUSED, a.paused);
    int64(out, A_PAUSED_TIME, a.pausedTime);
    string(out, A_PAUSED_BY, a.pausedBy);
    string(out, A_PAUSE_REASON, a.pauseReason);
    bool(out, A_RESET_REQUESTED, a.resetRequested);
  }

  private static ActivityInfo decodeActivity(byte[] bytes) throws IOException {
    ActivityInfo a = new ActivityInfo();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case A_SCHEDULED_EVENT_ID -> a.scheduledEventId = in.readInt64();
        case A_ACTIVITY_ID -> a.activityId = in.readStringRequireUtf8();
        case A_ACTIVITY_TYPE -> a.activityType = in.readStringRequireUtf8();
        case A_TASK_QUEUE -> a.taskQueue = in.readStringRequireUtf8();
        case A_SCHEDULE_TO_CLOSE -> a.scheduleToCloseMillis = in.readInt64();
        case A_SCHEDULE_TO_START -> a.scheduleToStartMillis = in.readInt64();
        case A_START_TO_CLOSE -> a.startToCloseMillis = in.readInt64();
        case A_HEARTBEAT -> a.heartbeatMillis = in.readInt64();
        case A_RETRY_POLICY -> a.retryPolicy = in.readByteArray();
        case A_PRIORITY -> a.priority = in.readByteArray();
        case A_ATTEMPT -> a.attempt = (int) in.readInt64();
        case A_STARTED -> a.started = in.readBool();
        case A_WAITING_FOR_RETRY -> a.waitingForRetry = in.readBool();
        case A_FIRST_SCHEDULED_TIME -> a.firstScheduledTime = in.readInt64();
        case A_SCHEDULED_TIME -> a.scheduledTime = in.readInt64();
        case A_STARTED_TIME -> a.startedTime = in.readInt64();
        case A_STARTED_IDENTITY -> a.startedIdentity = in.readStringRequireUtf8();
        case A_STARTED_REQUEST_ID -> a.startedRequestId = in.readStringRequireUtf8();
        case A_HEARTBEAT_DETAILS -> a.heartbeatDetails = in.readByteArray();
        case A_LAST_HEARTBEAT_TIME -> a.lastHeartbeatTime = in.readInt64();
        case A_CANCEL_REQUESTED -> a.cancelRequested = in.readBool();
        case A_CANCEL_REQUESTED_EVENT_ID -> a.cancelRequestedEventId = in.readInt64();
        case A_LAST_FAILURE -> a.lastFailure = in.readByteArray();
        case A_LAST_ATTEMPT_COMPLETE_TIME -> a.lastAttemptCompleteTime = in.readInt64();
        case A_PAUSED -> a.paused = in.readBool();
        case A_PAUSED_TIME -> a.pausedTime = in.readInt64();
        case A_PAUSED_BY -> a.pausedBy = in.readStringRequireUtf8();
        case A_PAUSE_REASON -> a.pauseReason = in.readStringRequireUtf8();
        case A_RESET_REQUESTED -> a.resetRequested = in.readBool();
        default -> in.skipField(tag);
      }
    }
    return a;
  }

  // Zero, false and null are not written: an absent field decodes to the field's initial value.
  // Fields whose initial value is not zero are written always.

  private static void string(CodedOutputStream out, int field, String value) throws IOException {
    if (value != null) {
      out.writeString(field, value);
    }
  }

  private static void bytes(CodedOutputStream out, int field, byte[] value) throws IOException {
    if (value != null) {
      out.writeByteArray(field, value);
    }
  }

  private static void int64(CodedOutputStream out, int field, long value) throws IOException {
    if (value != 0) {
      out.writeInt64(field, value);
    }
  }

  private static void bool(CodedOutputStream out, int field, boolean value) throws IOException {
    if (value) {
      out.writeBool(field, true);
    }
  }

  private static ExecutionState decodeLegacyJson(byte[] bytes) {
    try {
      ExecutionState s = LEGACY_JSON.readValue(bytes, ExecutionState.class);
      s.holdsTasksAndTimers = false;
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("stored execution state (JSON) is unreadable", e);
    }
  }
}
