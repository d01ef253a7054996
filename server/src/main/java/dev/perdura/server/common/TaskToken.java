package dev.perdura.server.common;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * What the server puts into the opaque task tokens it hands to workers: enough to find the
 * execution and to tell a current task from a stale one without a lookup table. Tokens stay valid
 * across restarts, since users keep them for async completion.
 *
 * <p>Encoding: magic {@code 'P'}, format version, kind, then the fields in order. Anything else is
 * rejected as malformed. Format 1 lacked {@code startedTimeMillis}; its tokens (an activity's,
 * kept for async completion) are still read, as 0.
 *
 * @param scheduledEventId the workflow task's or activity's scheduled event id
 * @param startedEventId the workflow task's started event id (0 for activities and queries)
 * @param attempt the attempt the token was issued for
 * @param queryId set for query tasks only
 * @param startedTimeMillis when the workflow task started (0 for other kinds, and for tokens of
 *     format 1): a start that a crash forgot, of the same task and attempt, gets a different token
 */
public record TaskToken(
    Kind kind,
    String namespace,
    String workflowId,
    String runId,
    long scheduledEventId,
    long startedEventId,
    int attempt,
    String queryId,
    long startedTimeMillis) {

  /** A token of a kind other than a workflow task. */
  public TaskToken(Kind kind, String namespace, String workflowId, String runId, long scheduledEventId,
      long startedEventId, int attempt, String queryId) {
    this(kind, namespace, workflowId, runId, scheduledEventId, startedEventId, attempt, queryId, 0);
  }

  /** What the token is for. */
  public enum Kind {
    WORKFLOW_TASK,
    ACTIVITY_TASK,
    QUERY_TASK
  }

  private static final byte MAGIC = 'P';
  private static final byte FORMAT = 2;
  private static final byte FORMAT_WITHOUT_STARTED_TIME = 1;

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(MAGIC);
      out.writeByte(FORMAT);
      out.writeByte(kind.ordinal());
      out.writeUTF(namespace);
      out.writeUTF(workflowId);
      out.writeUTF(runId);
      out.writeLong(scheduledEventId);
      out.writeLong(startedEventId);
      out.writeInt(attempt);
      out.writeUTF(queryId == null ? "" : queryId);
      out.writeLong(startedTimeMillis);
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes a token.
   *
   * @throws IllegalArgumentException when the bytes are not a token of this server
   */
  public static TaskToken decode(byte[] token) {
    if (token == null || token.length < 3 || token[0] != MAGIC
        || (token[1] != FORMAT && token[1] != FORMAT_WITHOUT_STARTED_TIME)) {
      throw new IllegalArgumentException("not a Perdura task token");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(token, 2, token.length - 2))) {
      int kind = in.readUnsignedByte();
      if (kind >= Kind.values().length) {
        throw new IllegalArgumentException("unknown task token kind " + kind);
      }
      TaskToken decoded =
          new TaskToken(
              Kind.values()[kind],
              in.readUTF(),
              in.readUTF(),
              in.readUTF(),
              in.readLong(),
              in.readLong(),
              in.readInt(),
              in.readUTF(),
              token[1] == FORMAT ? in.readLong() : 0);
      if (in.available() != 0) {
        throw new IllegalArgumentException("trailing bytes after task token");
      }
      return decoded;
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated task token", e);
    }
  }
}
