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
 * rejected as malformed.
 *
 * @param scheduledEventId the workflow task's or activity's scheduled event id
 * @param startedEventId the workflow task's started event id (0 for activities and queries)
 * @param attempt the attempt the token was issued for
 * @param queryId set for query tasks only
 */
public record TaskToken(
    Kind kind,
    String namespace,
    String workflowId,
    String runId,
    long scheduledEventId,
    long startedEventId,
    int attempt,
    String queryId) {

  /** What the token is for. */
  public enum Kind {
    WORKFLOW_TASK,
    ACTIVITY_TASK,
    QUERY_TASK
  }

  private static final byte MAGIC = 'P';
  private static final byte FORMAT = 1;

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
    if (token == null || token.length < 3 || token[0] != MAGIC || token[1] != FORMAT) {
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
              in.readUTF());
      if (in.available() != 0) {
        throw new IllegalArgumentException("trailing bytes after task token");
      }
      return decoded;
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated task token", e);
    }
  }
}
