package dev.perdura.server.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.netty.shaded.io.netty.channel.DefaultEventLoop;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoopHandoffTest {
  private final DefaultEventLoop loop = new DefaultEventLoop();
  private final DefaultEventLoop otherLoop = new DefaultEventLoop();

  @AfterEach
  void stopLoops() throws InterruptedException {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    otherLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }

  private static EventExecutor loopOf(DefaultEventLoop loop) throws Exception {
    return loop.submit(LoopHandoff::currentLoop).get(10, TimeUnit.SECONDS);
  }

  @Test
  void theNetworkThreadIsKnownOnItselfOnly() throws Exception {
    assertThat(loopOf(loop)).isSameAs(loop);
    assertThat(LoopHandoff.currentLoop()).isNull();
  }

  @Test
  void outsideAGatheringATaskRunsAtOnceOnTheAskingThread() throws Exception {
    EventExecutor target = loopOf(loop);
    List<Thread> ranOn = new CopyOnWriteArrayList<>();

    LoopHandoff.run(target, () -> ranOn.add(Thread.currentThread()));

    assertThat(ranOn).containsExactly(Thread.currentThread());
  }

  @Test
  void aGatheringsTasksRunAfterItOnTheirNetworkThreadsInOrder() throws Exception {
    EventExecutor first = loopOf(loop);
    EventExecutor second = loopOf(otherLoop);
    List<String> ran = new CopyOnWriteArrayList<>();
    List<String> ranBeforeTheEnd = new CopyOnWriteArrayList<>();

    LoopHandoff.gathering(() -> {
      LoopHandoff.run(first, () -> ran.add("a on " + (loop.inEventLoop() ? "loop" : "other")));
      LoopHandoff.run(second, () -> ran.add("b on " + (otherLoop.inEventLoop() ? "other loop" : "other")));
      LoopHandoff.run(first, () -> ran.add("c on " + (loop.inEventLoop() ? "loop" : "other")));
      LoopHandoff.run(null, () -> ran.add("d here"));
      ranBeforeTheEnd.addAll(ran);
    });

    assertThat(ranBeforeTheEnd).as("only the call made off a network thread ran inside").containsExactly("d here");
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() == 4);
    assertThat(ran.stream().filter(s -> !s.startsWith("b")).toList())
        .containsExactly("d here", "a on loop", "c on loop");
    assertThat(ran).contains("b on other loop");
  }

  @Test
  void aFailingTaskLeavesTheOthersOfItsBatchToRun() throws Exception {
    EventExecutor target = loopOf(loop);
    List<String> ran = new CopyOnWriteArrayList<>();

    LoopHandoff.gathering(() -> {
      LoopHandoff.run(target, () -> {
        throw new IllegalStateException("this answer could not be sent");
      });
      LoopHandoff.run(target, () -> ran.add("next"));
    });

    await().atMost(Duration.ofSeconds(10)).until(() -> ran.contains("next"));
  }

  @Test
  void aNetworkThreadThatStoppedLeavesItsTasksToTheGatherer() throws Exception {
    EventExecutor target = loopOf(loop);
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    List<Thread> ranOn = new CopyOnWriteArrayList<>();

    LoopHandoff.gathering(() -> LoopHandoff.run(target, () -> ranOn.add(Thread.currentThread())));

    assertThat(ranOn).containsExactly(Thread.currentThread());
  }

  @Test
  void aGatheringInsideAnotherJoinsIt() throws Exception {
    EventExecutor target = loopOf(loop);
    List<String> ran = new CopyOnWriteArrayList<>();
    List<String> ranBeforeTheEnd = new CopyOnWriteArrayList<>();

    LoopHandoff.gathering(() -> {
      LoopHandoff.gathering(() -> LoopHandoff.run(target, () -> ran.add("inner")));
      ranBeforeTheEnd.addAll(ran);
    });

    assertThat(ranBeforeTheEnd).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.contains("inner"));
  }
}
