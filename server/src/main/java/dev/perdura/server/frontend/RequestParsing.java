package dev.perdura.server.frontend;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a service's requests from one array per message, also when gRPC hands them over as a
 * stream of unknown length.
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
 */
public final class RequestParsing {
  private RequestParsing() {}

  /**
   * {@code service} with each request marshaller that parses protobuf messages replaced by one
   * that parses them from an array; handlers, response marshallers and everything else unchanged.
   */
  public static ServerServiceDefinition fromArrays(ServerServiceDefinition service) {
    ServiceDescriptor old = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      methods.add(fromArrays(method));
    }
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(old.getName()).setSchemaDescriptor(old.getSchemaDescriptor());
    methods.forEach(method -> descriptor.addMethod(method.getMethodDescriptor()));
    ServerServiceDefinition.Builder rebuilt = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(rebuilt::addMethod);
    return rebuilt.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> fromArrays(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    if (!(descriptor.getRequestMarshaller() instanceof PrototypeMarshaller<Q> protobuf)
        || !(protobuf.getMessagePrototype() instanceof MessageLite)) {
      return method;
    }
    return ServerMethodDefinition.create(
        descriptor.toBuilder().setRequestMarshaller(new ArrayParsing<>(protobuf)).build(),
        method.getServerCallHandler());
  }

  /** gRPC's marshaller, save for messages of unknown length. */
  static final class ArrayParsing<T> implements PrototypeMarshaller<T> {
    private final PrototypeMarshaller<T> protobuf;
    private final Parser<?> parser;

    ArrayParsing(PrototypeMarshaller<T> protobuf) {
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
      return protobuf.stream(value);
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
}
