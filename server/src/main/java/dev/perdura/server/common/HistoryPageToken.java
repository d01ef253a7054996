package dev.perdura.server.common;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Where the next page of a run's history starts: the next event id, the last event id the reader
 * asked for (0 for "up to the end, waiting for more if asked to"), and the run it belongs to.
 * Handed out by GetWorkflowExecutionHistory and by workflow-task polls whose history is longer than
 * one page.
 */
public record HistoryPageToken(String runId, long nextEventId, long lastEventId) {
  private static final int HEADER = 16;

  public byte[] encode() {
    byte[] run = runId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(HEADER + run.length).putLong(nextEventId).putLong(lastEventId).put(run).array();
  }

  /**
   * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT when the bytes are not a token of {@code
   *     expectedRunId}
   */
  public static HistoryPageToken decode(byte[] bytes, String expectedRunId) {
    if (bytes.length < HEADER) {
      throw Errors.invalidArgument("next_page_token is malformed");
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long next = buffer.getLong();
    long last = buffer.getLong();
    String runId = new String(bytes, HEADER, bytes.length - HEADER, StandardCharsets.UTF_8);
    if (!runId.equals(expectedRunId) || next < 1 || last < 0) {
      throw Errors.invalidArgument("next_page_token belongs to another run");
    }
    return new HistoryPageToken(runId, next, last);
  }
}
