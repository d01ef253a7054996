package dev.perdura.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlockingCallsTest {
  private static final Context.Key<String> CALLER = Context.key("caller");

  /** Records the one error a call was answered with. */
  private static final class Answer implements StreamObserver<String> {
    final CompletableFuture<Throwable> error = new CompletableFuture<>();

    @Override
    public void onNext(String value) {}

    @Override
    public void onError(Throwable t) {
      error.complete(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void theBodyRunsOnAnotherThreadInTheCallsContext() throws Exception {
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    try {
      CompletableFuture<String> seen = new CompletableFuture<>();
      CompletableFuture<Boolean> otherThread = new CompletableFuture<>();
      Thread caller = Thread.currentThread();
      Context.current().withValue(CALLER, "client-7").run(() ->
          BlockingCalls.offload(executor, "Test", new Answer(), () -> {
            otherThread.complete(Thread.currentThread() != caller);
            seen.complete(CALLER.get());
          }));

      assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("client-7");
      assertThat(otherThread.get(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aCallThatCannotStartBecauseTheServerIsStoppingIsUnavailable() throws Exception {
    Answer answer = new Answer();
    BlockingCalls.offload(task -> {
      throw new RejectedExecutionException("stopped");
    }, "Test", answer, () -> {});

    Throwable error = answer.error.get(10, TimeUnit.SECONDS);
    assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(error.getMessage()).contains("stopping");
  }

  @Test
  void aBodyThatFailsUnexpectedlyAnswersInternal() throws Exception {
    Answer answer = new Answer();
    BlockingCalls.offload(Runnable::run, "Test", answer, () -> {
      throw new IllegalStateException("broken invariant");
    });

    Throwable error = answer.error.get(10, TimeUnit.SECONDS);
    assertThat(error).isInstanceOf(StatusRuntimeException.class);
    assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(error.getMessage()).contains("broken invariant");
  }
}
