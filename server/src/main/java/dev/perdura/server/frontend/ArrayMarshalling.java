package dev.perdura.server.frontend;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a service's requests from one array per message, also when gRPC hands them over as a
 * stream of unknown length, and serializes its responses through an array kept per thread.
 *
 * <p>gRPC's protobuf marshaller reads a message whose length it knows into an array kept per
 * thread and parses it there; a decompressed message (the official Temporal Java SDK compresses
 * every request) comes wrapped in a stream of unknown length, and protobuf then parses it through a
 * stream decoder that allocates a 4 KB buffer per message, whatever its size: the largest single
 * source of the server's allocations (docs/performance.md). This marshaller reads such a message
 * whole into the event loop's own array ({@link MessageBytes}) and parses it from there, as gRPC
 * does with a known length; messages of known length go to gRPC's marshaller.
 *
 * <p>The array is reused, so nothing parsed may point into it: protobuf copies bytes and strings out
 * of an array unless the array is declared immutable and aliasing is enabled, and neither is.
 *
 * <p>Responses: gRPC serializes a protobuf message into its network buffer through an output stream
 * encoder with a buffer of its own, as large as the message up to 4 KB, allocated per message
 * (about 2 % of what the server allocates per workflow). {@link ThroughArrays} encodes the message
 * into an array the sending thread keeps (an event loop, or a history shard's writer; a virtual
 * thread, which would keep one per call, takes gRPC's way) and copies that into the buffer, one
 * copy as before.
 */
public final class ArrayMarshalling {
  /** Responses this large and larger are serialized gRPC's way; the array kept stays smaller. */
  static final int LARGEST_KEPT = 256 * 1024;
  private static final int FIRST_SIZE = 8 * 1024;
  private static final ThreadLocal<byte[]> RESPONSE_ARRAY = ThreadLocal.withInitial(() -> new byte[FIRST_SIZE]);

  private ArrayMarshalling() {}

  /**
   * {@code service} with each protobuf marshaller replaced: requests parsed from an array, responses
   * serialized through one; handlers and everything else unchanged.
   */
  public static ServerServiceDefinition throughArrays(ServerServiceDefinition service) {
    ServiceDescriptor old = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      methods.add(throughArrays(method));
    }
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(old.getName()).setSchemaDescriptor(old.getSchemaDescriptor());
    methods.forEach(method -> descriptor.addMethod(method.getMethodDescriptor()));
    ServerServiceDefinition.Builder rebuilt = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(rebuilt::addMethod);
    return rebuilt.build();
  }

  @SuppressWarnings("unchecked")
  private static <Q, R> ServerMethodDefinition<Q, R> throughArrays(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    MethodDescriptor.Builder<Q, R> replaced = descriptor.toBuilder();
    if (isProtobuf(descriptor.getRequestMarshaller())) {
      replaced.setRequestMarshaller(new ThroughArrays<>((PrototypeMarshaller<Q>) descriptor.getRequestMarshaller()));
    }
    if (isProtobuf(descriptor.getResponseMarshaller())) {
      replaced.setResponseMarshaller(new ThroughArrays<>((PrototypeMarshaller<R>) descriptor.getResponseMarshaller()));
    }
    return ServerMethodDefinition.create(replaced.build(), method.getServerCallHandler());
  }

  private static boolean isProtobuf(MethodDescriptor.Marshaller<?> marshaller) {
    return marshaller instanceof PrototypeMarshaller<?> prototype
        && prototype.getMessagePrototype() instanceof MessageLite;
  }

  /**
   * gRPC's marshaller, save for messages of unknown length, which are parsed from an array, and for
   * serializing, which goes through an array the sending thread keeps. The server uses one as a
   * method's request marshaller (parsing) and as its response marshaller (serializing).
   */
  static final class ThroughArrays<T> implements PrototypeMarshaller<T> {
    private final PrototypeMarshaller<T> protobuf;
    private final Parser<?> parser;

    ThroughArrays(PrototypeMarshaller<T> protobuf) {
      this.protobuf = protobuf;
      this.parser = ((MessageLite) protobuf.getMessagePrototype()).getParserForType();
    }

    @Override
    public T getMessagePrototype() {
      return protobuf.getMessagePrototype();
    }

    @Override
    public Class<T> getMessageClass() {
      return protobuf.getMessageClass();
    }

    @Override
    public InputStream stream(T value) {
      return new Serialized((MessageLite) value);
    }

    @Override
    public T parse(InputStream stream) {
      if (stream instanceof KnownLength) {
        return protobuf.parse(stream);
      }
      MessageBytes message;
      try {
        message = MessageBytes.readWhole(stream);
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("cannot read the request: " + e.getMessage())
            .withCause(e).asRuntimeException();
      }
      try {
        CodedInputStream in = CodedInputStream.newInstance(message.bytes(), 0, message.length());
        Object parsed = parser.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
        in.checkLastTagWas(0);
        return protobuf.getMessageClass().cast(parsed);
      } catch (InvalidProtocolBufferException e) {
        throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e).asRuntimeException();
      }
    }
  }

  /**
   * A message on its way out. gRPC drains it into its buffer ({@link Drainable}); the plain reads
   * of an input stream, which nothing in the server's path uses, go through a copy of its bytes.
   */
  static final class Serialized extends InputStream implements Drainable, KnownLength {
    private MessageLite message;
    private ByteArrayInputStream bytes;

    Serialized(MessageLite message) {
      this.message = message;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (message == null) {
        return bytes == null ? 0 : (int) bytes.transferTo(target);
      }
      MessageLite draining = message;
      message = null;
      int size = draining.getSerializedSize();
      if (Thread.currentThread().isVirtual() || size >= LARGEST_KEPT) {
        draining.writeTo(target);
        return size;
      }
      byte[] array = RESPONSE_ARRAY.get();
      if (array.length < size) {
        array = new byte[Math.max(size, array.length * 2)];
        RESPONSE_ARRAY.set(array);
      }
      CodedOutputStream out = CodedOutputStream.newInstance(array, 0, size);
      draining.writeTo(out);
      out.checkNoSpaceLeft();
      target.write(array, 0, size);
      return size;
    }

    private ByteArrayInputStream bytes() {
      if (message != null) {
        bytes = new ByteArrayInputStream(message.toByteArray());
        message = null;
      }
      return bytes == null ? new ByteArrayInputStream(new byte[0]) : bytes;
    }

    @Override
    public int read() {
      return bytes().read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return bytes().read(b, off, len);
    }

    @Override
    public int available() {
      return message != null ? message.getSerializedSize() : bytes == null ? 0 : bytes.available();
    }
  }
}
