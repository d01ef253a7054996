package dev.perdura.server.frontend;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A stream read whole into an array the reading thread (a network thread) keeps for its next
 * message, so a request costs no array of its own. Whoever reads must be done with the bytes before
 * the thread reads its next message; nothing it returns may point into them. A virtual thread, which
 * would keep an array per call, reads into an array of its own, sized by what the stream says it
 * has.
 *
 * @param bytes the thread's array, or one of its own (a virtual thread's, or a message larger than
 *     is kept)
 * @param length how many bytes of it the stream held
 */
record MessageBytes(byte[] bytes, int length) {
  /** Arrays this large and larger serve one message and are not kept. */
  static final int LARGEST_KEPT = 256 * 1024;
  private static final int FIRST_SIZE = 8 * 1024;
  private static final int SMALLEST_OWN = 512;

  private static final ThreadLocal<byte[]> KEPT = ThreadLocal.withInitial(() -> new byte[FIRST_SIZE]);

  /** Reads {@code in} to its end. */
  static MessageBytes readWhole(InputStream in) throws IOException {
    boolean kept = !Thread.currentThread().isVirtual();
    // One byte past what the stream announces, so a stream that tells its length is read without
    // growing the array before its end is seen.
    byte[] buffer = kept ? KEPT.get() : new byte[Math.max(in.available() + 1, SMALLEST_OWN)];
    int length = 0;
    int read;
    while ((read = in.read(buffer, length, buffer.length - length)) >= 0) {
      length += read;
      if (length == buffer.length) {
        buffer = Arrays.copyOf(buffer, buffer.length * 2);
      }
    }
    if (kept && buffer.length <= LARGEST_KEPT) {
      KEPT.set(buffer);
    }
    return new MessageBytes(buffer, length);
  }
}
