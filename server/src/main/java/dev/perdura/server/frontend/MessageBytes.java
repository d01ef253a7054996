package dev.perdura.server.frontend;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A stream read whole into an array the reading thread keeps for its next message, so a request
 * costs no array of its own. For the network threads only: a virtual thread would keep an array per
 * call. Whoever reads must be done with the bytes before the thread reads its next message; nothing
 * it returns may point into them.
 *
 * @param bytes the thread's array, or one of its own when the message was larger than is kept
 * @param length how many bytes of it the stream held
 */
record MessageBytes(byte[] bytes, int length) {
  /** Arrays this large and larger serve one message and are not kept. */
  static final int LARGEST_KEPT = 256 * 1024;
  private static final int FIRST_SIZE = 8 * 1024;

  private static final ThreadLocal<byte[]> KEPT = ThreadLocal.withInitial(() -> new byte[FIRST_SIZE]);

  /** Reads {@code in} to its end. */
  static MessageBytes readWhole(InputStream in) throws IOException {
    byte[] buffer = KEPT.get();
    int length = 0;
    int read;
    while ((read = in.read(buffer, length, buffer.length - length)) >= 0) {
      length += read;
      if (length == buffer.length) {
        buffer = Arrays.copyOf(buffer, buffer.length * 2);
      }
    }
    if (buffer.length <= LARGEST_KEPT) {
      KEPT.set(buffer);
    }
    return new MessageBytes(buffer, length);
  }
}
