package dev.perdura.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WakeAfterReadTest {
  private static final long SECONDS_10 = TimeUnit.SECONDS.toNanos(10);

  private DefaultEventLoop loop;

  @BeforeEach
  void startLoop() {
    loop = new DefaultEventLoop();
  }

  @AfterEach
  void stopLoop() throws InterruptedException {
    assertThat(loop.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void onANetworkThreadTheWakeUpComesAfterWhatTheThreadIsHandling() throws Exception {
    // The loop's own thread asks to wake itself, then queues a task after it: until the asking task
    // ends, the thread holds no permit and a park waits its full time; in the queued task, run
    // right after the wake-up, a park returns at once.
    long[] parkedNanos = new long[2];
    CompletableFuture<Void> next = new CompletableFuture<>();
    loop.submit(() -> {
      WakeAfterRead.unpark(Thread.currentThread());
      loop.execute(() -> {
        parkedNanos[1] = timedPark(SECONDS_10);
        next.complete(null);
      });
      parkedNanos[0] = timedPark(TimeUnit.MILLISECONDS.toNanos(200));
    }).get(10, TimeUnit.SECONDS);
    next.get(20, TimeUnit.SECONDS);

    assertThat(Duration.ofNanos(parkedNanos[0])).isGreaterThanOrEqualTo(Duration.ofMillis(150));
    assertThat(Duration.ofNanos(parkedNanos[1])).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void fromAnyOtherThreadTheWakeUpIsImmediate() {
    WakeAfterRead.unpark(Thread.currentThread());

    assertThat(Duration.ofNanos(timedPark(SECONDS_10))).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void everyThreadAskedForInOneTaskIsWoken() throws Exception {
    CountDownLatch woken = new CountDownLatch(2);
    Thread first = Thread.ofPlatform().start(() -> parkThenCount(woken));
    Thread second = Thread.ofPlatform().start(() -> parkThenCount(woken));

    loop.submit(() -> {
      WakeAfterRead.unpark(first);
      WakeAfterRead.unpark(second);
      WakeAfterRead.unpark(first);
    }).get(10, TimeUnit.SECONDS);

    assertThat(woken.await(10, TimeUnit.SECONDS)).isTrue();
    first.join(TimeUnit.SECONDS.toMillis(10));
    second.join(TimeUnit.SECONDS.toMillis(10));
  }

  private static long timedPark(long nanos) {
    long start = System.nanoTime();
    LockSupport.parkNanos(nanos);
    return System.nanoTime() - start;
  }

  private static void parkThenCount(CountDownLatch woken) {
    // A permit given before the park makes it return at once, so the order of the two does not matter.
    LockSupport.parkNanos(SECONDS_10);
    woken.countDown();
  }
}
