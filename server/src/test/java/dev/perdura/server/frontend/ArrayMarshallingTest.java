package dev.perdura.server.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests of unknown length are parsed from an array kept per thread, and come out whole and unshared;
 * responses serialized through an array kept per thread come out whole.
 */
class ArrayMarshallingTest {
  private static final MethodDescriptor<StartWorkflowExecutionRequest, ?> START =
      WorkflowServiceGrpc.getStartWorkflowExecutionMethod();

  @SuppressWarnings("unchecked")
  private static final PrototypeMarshaller<StartWorkflowExecutionRequest> GRPC =
      (PrototypeMarshaller<StartWorkflowExecutionRequest>) START.getRequestMarshaller();

  private final ArrayMarshalling.ThroughArrays<StartWorkflowExecutionRequest> marshaller =
      new ArrayMarshalling.ThroughArrays<>(GRPC);

  private static StartWorkflowExecutionRequest request(int inputBytes) {
    byte[] data = new byte[inputBytes];
    new Random(inputBytes).nextBytes(data);
    return StartWorkflowExecutionRequest.newBuilder()
        .setNamespace("default")
        .setWorkflowId("parse-" + inputBytes)
        .setWorkflowType(WorkflowType.newBuilder().setName("Parsed"))
        .setTaskQueue(TaskQueue.newBuilder().setName("parse-queue"))
        .setInput(Payloads.newBuilder().addPayloads(Payload.newBuilder().setData(ByteString.copyFrom(data))))
        .setRequestId(UUID.randomUUID().toString())
        .build();
  }

  /** What gRPC hands a marshaller after decompressing: a stream that does not know its length. */
  private static InputStream ofUnknownLength(byte[] bytes) {
    return new FilterInputStream(new ByteArrayInputStream(bytes)) {};
  }

  private static <T> T onPlatformThread(java.util.concurrent.Callable<T> work) throws Exception {
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread thread = Thread.ofPlatform().start(() -> {
      try {
        result.set(work.call());
      } catch (Exception e) {
        failure.set(e);
      }
    });
    thread.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(thread.isAlive()).isFalse();
    if (failure.get() != null) {
      throw failure.get();
    }
    return result.get();
  }

  @ParameterizedTest(name = "{0} bytes of input")
  @ValueSource(ints = {0, 100, 20_000, MessageBytes.LARGEST_KEPT + 1000})
  void aMessageOfUnknownLengthComesOutEqual(int inputBytes) throws Exception {
    StartWorkflowExecutionRequest sent = request(inputBytes);

    StartWorkflowExecutionRequest parsed =
        onPlatformThread(() -> marshaller.parse(ofUnknownLength(sent.toByteArray())));

    assertThat(parsed).isEqualTo(sent);
  }

  @Test
  void aMessageParsedEarlierKeepsItsBytesWhenTheArrayIsReused() throws Exception {
    StartWorkflowExecutionRequest first = request(3000);
    StartWorkflowExecutionRequest second = request(5000);

    List<StartWorkflowExecutionRequest> parsed = onPlatformThread(() -> List.of(
        marshaller.parse(ofUnknownLength(first.toByteArray())),
        marshaller.parse(ofUnknownLength(second.toByteArray())),
        marshaller.parse(ofUnknownLength(request(MessageBytes.LARGEST_KEPT * 2).toByteArray()))));

    assertThat(parsed.get(0)).isEqualTo(first);
    assertThat(parsed.get(1)).isEqualTo(second);
  }

  @Test
  void brokenBytesAreAnInternalError() throws Exception {
    byte[] whole = request(300).toByteArray();

    StatusRuntimeException refused = onPlatformThread(() -> {
      try {
        marshaller.parse(ofUnknownLength(Arrays.copyOf(whole, whole.length - 150)));
        return null;
      } catch (StatusRuntimeException e) {
        return e;
      }
    });

    assertThat(refused).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
  }

  @Test
  void aStreamThatFailsIsAnInternalErrorNamingWhy() throws Exception {
    InputStream failing = new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("connection reset");
      }
    };

    assertThatThrownBy(() -> onPlatformThread(() -> marshaller.parse(failing)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
          assertThat(e.getStatus().getDescription()).contains("connection reset");
        });
  }

  @Test
  void messagesOfKnownLengthAreLeftToGrpcAndVirtualThreadsParseTheirOwnArray() throws Exception {
    StartWorkflowExecutionRequest sent = request(100);
    class Known extends ByteArrayInputStream implements KnownLength {
      Known(byte[] bytes) {
        super(bytes);
      }
    }

    assertThat(onPlatformThread(() -> marshaller.parse(new Known(sent.toByteArray())))).isEqualTo(sent);
    AtomicReference<StartWorkflowExecutionRequest> onVirtual = new AtomicReference<>();
    Thread.ofVirtual().start(() -> onVirtual.set(marshaller.parse(ofUnknownLength(sent.toByteArray()))))
        .join(TimeUnit.SECONDS.toMillis(30));
    assertThat(onVirtual.get()).isEqualTo(sent);
  }

  @Test
  void theServiceKeepsEveryMethodAndHandlerWithOnlyItsMarshallersReplaced() {
    ServerServiceDefinition service = new WorkflowServiceGrpc.WorkflowServiceImplBase() {}.bindService();

    ServerServiceDefinition rebuilt = ArrayMarshalling.throughArrays(service);

    assertThat(rebuilt.getServiceDescriptor().getName()).isEqualTo(service.getServiceDescriptor().getName());
    assertThat(rebuilt.getMethods()).hasSameSizeAs(service.getMethods());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      String name = method.getMethodDescriptor().getFullMethodName();
      ServerMethodDefinition<?, ?> replaced = rebuilt.getMethod(name);
      assertThat(replaced.getServerCallHandler()).isSameAs(method.getServerCallHandler());
      assertThat(replaced.getMethodDescriptor().getRequestMarshaller())
          .isInstanceOf(ArrayMarshalling.ThroughArrays.class);
      assertThat(replaced.getMethodDescriptor().getResponseMarshaller())
          .isInstanceOf(ArrayMarshalling.ThroughArrays.class);
      assertThat(replaced.getMethodDescriptor().getType()).isEqualTo(method.getMethodDescriptor().getType());
    }
  }

  private static byte[] drained(InputStream serialized) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int told = ((Drainable) serialized).drainTo(out);
    assertThat(told).isEqualTo(out.size());
    return out.toByteArray();
  }

  @ParameterizedTest(name = "{0} bytes of input")
  @ValueSource(ints = {0, 100, 20_000, ArrayMarshalling.LARGEST_KEPT + 1000})
  void aResponseDrainedThroughTheKeptArrayComesOutEqual(int inputBytes) throws Exception {
    StartWorkflowExecutionRequest sent = request(inputBytes);

    byte[] onPlatform = onPlatformThread(() -> drained(marshaller.stream(sent)));
    AtomicReference<byte[]> onVirtual = new AtomicReference<>();
    Thread.ofVirtual().start(() -> {
      try {
        onVirtual.set(drained(marshaller.stream(sent)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).join(TimeUnit.SECONDS.toMillis(30));

    assertThat(onPlatform).isEqualTo(sent.toByteArray());
    assertThat(onVirtual.get()).isEqualTo(sent.toByteArray());
  }

  @Test
  void responsesDrainedOneAfterAnotherEachComeOutWhole() throws Exception {
    StartWorkflowExecutionRequest large = request(30_000);
    StartWorkflowExecutionRequest small = request(10);

    List<byte[]> out = onPlatformThread(() -> List.of(drained(marshaller.stream(large)), drained(marshaller.stream(small)),
        drained(marshaller.stream(large))));

    assertThat(out.get(0)).isEqualTo(large.toByteArray());
    assertThat(out.get(1)).isEqualTo(small.toByteArray());
    assertThat(out.get(2)).isEqualTo(large.toByteArray());
  }

  @Test
  void aResponseAlsoReadsAsAStreamOfKnownLength() throws Exception {
    StartWorkflowExecutionRequest sent = request(5000);
    InputStream serialized = marshaller.stream(sent);

    assertThat(serialized).isInstanceOf(KnownLength.class);
    assertThat(serialized.available()).isEqualTo(sent.getSerializedSize());
    int first = serialized.read();
    byte[] rest = serialized.readAllBytes();

    byte[] whole = sent.toByteArray();
    assertThat(first).isEqualTo(whole[0] & 0xff);
    assertThat(rest).isEqualTo(Arrays.copyOfRange(whole, 1, whole.length));
    assertThat(serialized.available()).isZero();
    assertThat(drained(serialized)).isEmpty();
  }

  @ParameterizedTest(name = "{0} bytes of input")
  @ValueSource(ints = {20_000, MessageBytes.LARGEST_KEPT + 1000})
  void theServerKeepsTheBytesOfACompressedRequest(int inputBytes, @TempDir Path dir) throws Exception {
    try (PerduraServer server = PerduraServer.start(
        new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()))) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        var stub = WorkflowServiceGrpc.newBlockingStub(channel).withCompression("gzip");
        StartWorkflowExecutionRequest sent = request(inputBytes).toBuilder()
            .setWorkflowId("parse-" + UUID.randomUUID())
            .setTaskQueue(TaskQueue.newBuilder().setName("parse-" + UUID.randomUUID()))
            .setWorkflowTaskTimeout(Durations.fromSeconds(10))
            .build();
        String runId = stub.startWorkflowExecution(sent).getRunId();
        // Another compressed request in between reuses the event loop's array.
        stub.startWorkflowExecution(request(inputBytes / 2).toBuilder()
            .setWorkflowId("parse-" + UUID.randomUUID())
            .setTaskQueue(sent.getTaskQueue())
            .build());

        var history = stub.getWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest.newBuilder()
            .setNamespace("default")
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(sent.getWorkflowId()).setRunId(runId))
            .build()).getHistory();
        assertThat(history.getEvents(0).getWorkflowExecutionStartedEventAttributes().getInput())
            .isEqualTo(sent.getInput());
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
