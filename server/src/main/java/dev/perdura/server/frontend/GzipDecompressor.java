package dev.perdura.server.frontend;

import io.grpc.Codec;
import io.grpc.Decompressor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * The server's {@code gzip} message decompressor, in place of gRPC's own. The official Temporal Java
 * SDK compresses every request with gzip by default, and gRPC's decompressor wraps each message in
 * a {@code GZIPInputStream}: a native inflater set up and torn down per message, and the message
 * inflated in small reads, which was about 5 % of the server's CPU (docs/performance.md). This one
 * inflates a message whose gzip header has no optional fields (what gzip writers send) into one
 * array, in one call, with an inflater kept for the next message, and checks the trailer's length
 * and CRC-32; anything else (optional header fields, several members, an announced length past the
 * message size limit) goes to gRPC's decompressor, which reads it as a stream. The compressed
 * bytes are read into an array the network thread keeps for its next message ({@link MessageBytes}).
 */
public final class GzipDecompressor implements Decompressor {
  private static final int HEADER = 10;
  private static final int TRAILER = 8;
  private static final int POOLED_INFLATERS = 16;

  private final int maxMessageBytes;
  private final BlockingQueue<Inflater> inflaters = new ArrayBlockingQueue<>(POOLED_INFLATERS);

  /** @param maxMessageBytes the largest inflated message inflated into one array */
  public GzipDecompressor(int maxMessageBytes) {
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  public String getMessageEncoding() {
    return "gzip";
  }

  @Override
  public InputStream decompress(InputStream compressed) throws IOException {
    // Nothing returned points into these bytes (the message is inflated into an array of its own,
    // and what goes to the stream reader is copied), so the network thread's kept array serves.
    MessageBytes gz = MessageBytes.readWhole(compressed);
    return decompress(gz.bytes(), gz.length());
  }

  private InputStream decompress(byte[] gz, int length) throws IOException {
    if (length < HEADER + TRAILER
        || (gz[0] & 0xff) != 0x1f
        || (gz[1] & 0xff) != 0x8b
        || gz[2] != 8
        || gz[3] != 0) {
      return streamed(gz, length);
    }
    long inflatedLength = littleEndianInt(gz, length - 4);
    if (inflatedLength > maxMessageBytes) {
      return streamed(gz, length);
    }
    byte[] message = new byte[(int) inflatedLength];
    Inflater inflater = inflaters.poll();
    if (inflater == null) {
      inflater = new Inflater(true);
    }
    try {
      inflater.setInput(gz, HEADER, length - HEADER - TRAILER);
      int inflated = inflater.inflate(message);
      // A length that does not match, or data left over, is a stream this path does not read
      // (several members) or a broken one: the stream reader tells which.
      if (!inflater.finished() || inflater.getRemaining() != 0 || inflated != message.length) {
        return streamed(gz, length);
      }
    } catch (DataFormatException e) {
      throw new ZipException("invalid gzip message: " + e.getMessage());
    } finally {
      inflater.reset();
      if (!inflaters.offer(inflater)) {
        inflater.end();
      }
    }
    CRC32 crc = new CRC32();
    crc.update(message);
    if (crc.getValue() != littleEndianInt(gz, length - TRAILER)) {
      throw new ZipException("gzip message fails its CRC-32 check");
    }
    return new ByteArrayInputStream(message);
  }

  private static InputStream streamed(byte[] gz, int length) throws IOException {
    return new Codec.Gzip().decompress(new ByteArrayInputStream(Arrays.copyOf(gz, length)));
  }

  private static long littleEndianInt(byte[] bytes, int at) {
    return (bytes[at] & 0xffL)
        | (bytes[at + 1] & 0xffL) << 8
        | (bytes[at + 2] & 0xffL) << 16
        | (bytes[at + 3] & 0xffL) << 24;
  }
}
