package dev.perdura.server.cluster;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The calls servers of one cluster make to each other, beside the WorkflowService: gRPC methods of
 * the service {@value #SERVICE} whose messages are laid out here (length-prefixed fields, no
 * generated classes). Servers of one cluster run one version, so there is no versioning beyond
 * the method names.
 */
final class PeerProtocol {
  static final String SERVICE = "perdura.cluster.v1.Peers";

  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final MethodDescriptor<byte[], byte[]> ADD_TASK = method("AddTask");
  static final MethodDescriptor<byte[], byte[]> START_WORKFLOW_TASK = method("StartWorkflowTask");
  static final MethodDescriptor<byte[], byte[]> START_ACTIVITY_TASK = method("StartActivityTask");
  static final MethodDescriptor<byte[], byte[]> START_CHILD = method("StartChild");
  static final MethodDescriptor<byte[], byte[]> DELIVER_EXTERNAL = method("DeliverExternal");
  static final MethodDescriptor<byte[], byte[]> NOTIFY_PARENT = method("NotifyParent");
  static final MethodDescriptor<byte[], byte[]> APPLY_POLICY_TO_CHILD = method("ApplyPolicyToChild");
  static final MethodDescriptor<byte[], byte[]> FIRE_TIMER = method("FireTimer");

  private PeerProtocol() {}

  private static MethodDescriptor<byte[], byte[]> method(String name) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  /** Writes one message. */
  static final class Writer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    private final DataOutputStream out = new DataOutputStream(bytes);

    private interface Field {
      void write(DataOutputStream out) throws IOException;
    }

    /** Writing to memory fails only on a bug, never on input. */
    private Writer put(Field field) {
      try {
        field.write(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Writer string(String value) {
      return bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    Writer optionalString(Optional<String> value) {
      flag(value.isPresent());
      value.ifPresent(this::string);
      return this;
    }

    Writer number(long value) {
      return put(o -> o.writeLong(value));
    }

    Writer flag(boolean value) {
      return put(o -> o.writeBoolean(value));
    }

    Writer bytes(byte[] value) {
      return put(o -> {
        o.writeInt(value.length);
        o.write(value);
      });
    }

    Writer key(ExecutionKey key) {
      return string(key.namespace()).string(key.workflowId()).string(key.runId());
    }

    Writer task(TaskRow task) {
      key(task.execution()).string(task.kind().name()).string(task.taskQueue()).number(task.scheduledEventId())
          .number(task.attempt()).number(task.priorityKey()).string(task.fairnessKey())
          .number(Float.floatToIntBits(task.fairnessWeight())).number(task.createdAtMillis());
      return this;
    }

    byte[] toBytes() {
      return bytes.toByteArray();
    }
  }

  /** Reads one message, in the order it was written. */
  static final class Reader {
    private final DataInputStream in;

    Reader(byte[] message) {
      this.in = new DataInputStream(new ByteArrayInputStream(message));
    }

    String string() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    Optional<String> optionalString() {
      return flag() ? Optional.of(string()) : Optional.empty();
    }

    private interface Field<T> {
      T read(DataInputStream in) throws IOException;
    }

    /** A message shorter than its fields, or with a negative length, is refused. */
    private <T> T get(Field<T> field) {
      try {
        return field.read(in);
      } catch (IOException | NegativeArraySizeException e) {
        throw new IllegalArgumentException("malformed peer message", e);
      }
    }

    long number() {
      return get(DataInputStream::readLong);
    }

    boolean flag() {
      return get(DataInputStream::readBoolean);
    }

    byte[] bytes() {
      return get(i -> {
        byte[] value = new byte[i.readInt()];
        i.readFully(value);
        return value;
      });
    }

    ExecutionKey key() {
      return new ExecutionKey(string(), string(), string());
    }

    TaskRow task() {
      return new TaskRow(key(), TaskKind.valueOf(string()), string(), number(), (int) number(), (int) number(),
          string(), Float.intBitsToFloat((int) number()), number());
    }
  }
}
