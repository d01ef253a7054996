package dev.perdura.server.frontend;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/** Calls service methods of the frontend directly, without a gRPC server in between (tests). */
public final class DirectCalls {
  private DirectCalls() {}

  /**
   * Calls a service method in this thread, as the gRPC server would, and returns its one answer;
   * an error answer is thrown as it came (a {@code StatusRuntimeException}).
   */
  public static <Q, R> R call(BiConsumer<Q, StreamObserver<R>> method, Q request) throws Exception {
    CompletableFuture<R> answer = new CompletableFuture<>();
    method.accept(request, new StreamObserver<>() {
      @Override
      public void onNext(R value) {
        answer.complete(asReceived(value));
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    try {
      return answer.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /**
   * A response as a client receives it: serialized and parsed again. Some responses carry a field
   * as its bytes (a history: {@code HistoryBytes}), which only the wire form shows as the field.
   */
  @SuppressWarnings("unchecked")
  public static <R> R asReceived(R response) {
    if (!(response instanceof Message message)) {
      return response;
    }
    try {
      return (R) message.getParserForType().parseFrom(message.toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a response that does not parse: " + message.getClass().getSimpleName(), e);
    }
  }
}
