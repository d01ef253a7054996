package dev.perdura.server.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.Durations;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server's gzip decompressor inflates what gzip writers send, and refuses what is broken. */
class GzipDecompressorTest {
  private final GzipDecompressor decompressor = new GzipDecompressor(1 << 20);

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }

  private static byte[] message(int size) {
    byte[] data = new byte[size];
    Random random = new Random(size);
    String alphabet = "default/workflow-0123456789abcdef";
    for (int i = 0; i < size; i++) {
      data[i] = (byte) alphabet.charAt(random.nextInt(alphabet.length()));
    }
    return data;
  }

  private byte[] inflate(byte[] gz) throws IOException {
    try (InputStream in = decompressor.decompress(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, 300, 70_000, 600_000})
  void inflatesWhatAGzipWriterWrote(int size) throws IOException {
    byte[] data = message(size);

    assertThat(inflate(gzip(data))).isEqualTo(data);
  }

  @Test
  void aMessageWithTheSameInflaterAgainAndAgainComesOutWhole() throws IOException {
    for (int i = 0; i < 100; i++) {
      byte[] data = message(100 + i);
      assertThat(inflate(gzip(data))).isEqualTo(data);
    }
  }

  @Test
  void aStreamThatUnderstatesItsLengthIsReadWhole() throws IOException {
    byte[] data = message(3000);
    InputStream understating = new java.io.FilterInputStream(new ByteArrayInputStream(gzip(data))) {
      @Override
      public int available() {
        return 7;
      }
    };

    try (InputStream in = decompressor.decompress(understating)) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  @Test
  void aWrongChecksumIsRefused() throws IOException {
    byte[] gz = gzip(message(300));
    gz[gz.length - 8] ^= 1;

    assertThatThrownBy(() -> inflate(gz)).isInstanceOf(ZipException.class).hasMessageContaining("CRC-32");
  }

  @Test
  void brokenDataIsRefused() throws IOException {
    byte[] gz = gzip(message(300));
    for (int i = 10; i < gz.length - 8; i++) {
      gz[i] = (byte) 0xff;
    }

    assertThatThrownBy(() -> inflate(gz)).isInstanceOf(IOException.class);
  }

  @Test
  void aHeaderWithAFileNameAndTwoMembersAreReadAsAStream() throws IOException {
    byte[] data = message(500);
    byte[] gz = gzip(data);
    ByteArrayOutputStream named = new ByteArrayOutputStream();
    named.write(gz, 0, 3);
    named.write(0x08); // FNAME
    named.write(gz, 4, 6);
    named.write("request.bin\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    named.write(gz, 10, gz.length - 10);
    ByteArrayOutputStream twice = new ByteArrayOutputStream();
    twice.write(gz);
    twice.write(gz);

    assertThat(inflate(named.toByteArray())).isEqualTo(data);
    byte[] both = new byte[data.length * 2];
    System.arraycopy(data, 0, both, 0, data.length);
    System.arraycopy(data, 0, both, data.length, data.length);
    assertThat(inflate(twice.toByteArray())).isEqualTo(both);
  }

  @Test
  void aMessageLeftToTheStreamReaderIsReadWholeAfterTheNextMessage() throws IOException {
    byte[] data = message(500);
    byte[] gz = gzip(data);
    ByteArrayOutputStream twice = new ByteArrayOutputStream();
    twice.write(gz);
    twice.write(gz);

    try (InputStream first = decompressor.decompress(new ByteArrayInputStream(twice.toByteArray()))) {
      // The next message is read into the same per-thread array the first one was read into.
      assertThat(inflate(gzip(message(900)))).isEqualTo(message(900));
      byte[] both = first.readAllBytes();
      assertThat(both).hasSize(data.length * 2);
      assertThat(Arrays.copyOfRange(both, 0, data.length)).isEqualTo(data);
      assertThat(Arrays.copyOfRange(both, data.length, both.length)).isEqualTo(data);
    }
  }

  @Test
  void onAVirtualThreadAMessageComesOutWholeToo() throws Exception {
    byte[] data = message(3000);
    AtomicReference<byte[]> inflated = new AtomicReference<>();
    AtomicReference<IOException> failure = new AtomicReference<>();

    Thread.ofVirtual().start(() -> {
      try {
        inflated.set(inflate(gzip(data)));
      } catch (IOException e) {
        failure.set(e);
      }
    }).join(TimeUnit.SECONDS.toMillis(30));

    assertThat(failure.get()).isNull();
    assertThat(inflated.get()).isEqualTo(data);
  }

  @Test
  void aLengthPastTheLimitIsLeftToTheStreamReader() throws IOException {
    GzipDecompressor small = new GzipDecompressor(1000);
    byte[] data = message(5000);

    try (InputStream in = small.decompress(new ByteArrayInputStream(gzip(data)))) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  @Test
  void theServerAnswersRequestsCompressedWithGzip(@TempDir Path dir) throws Exception {
    try (PerduraServer server = PerduraServer.start(
        new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()))) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        var stub = WorkflowServiceGrpc.newBlockingStub(channel).withCompression("gzip");
        String workflowId = "gzip-" + UUID.randomUUID();
        String runId = stub.startWorkflowExecution(StartWorkflowExecutionRequest.newBuilder()
            .setNamespace("default")
            .setWorkflowId(workflowId)
            .setWorkflowType(WorkflowType.newBuilder().setName("Compressed"))
            .setTaskQueue(TaskQueue.newBuilder().setName("gzip-" + UUID.randomUUID()))
            .setWorkflowTaskTimeout(Durations.fromSeconds(10))
            .setRequestId(UUID.randomUUID().toString())
            .build()).getRunId();

        var described = stub.describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
            .setNamespace("default")
            .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder()
                .setWorkflowId(workflowId).setRunId(runId))
            .build());
        assertThat(described.getWorkflowExecutionInfo().getType().getName()).isEqualTo("Compressed");
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
