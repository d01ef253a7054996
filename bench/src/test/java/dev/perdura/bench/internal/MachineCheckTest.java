package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MachineCheckTest {
  @Test
  void theLoopsCpuTimeGrowsWithItsWork() {
    MachineCheck.loopCpuNanos(MachineCheck.ITERATIONS); // compiled before it is timed
    long shortest = Long.MAX_VALUE;
    long longest = 0;
    for (int i = 0; i < 3; i++) {
      shortest = Math.min(shortest, MachineCheck.loopCpuNanos(MachineCheck.ITERATIONS * 8));
      longest = Math.max(longest, MachineCheck.loopCpuNanos(MachineCheck.ITERATIONS / 8));
    }
    // 64 times the work: at least twice the time however busy the machine, and never none.
    assertThat(longest).isPositive();
    assertThat(shortest).isGreaterThan(2 * longest);
    assertThat(MachineCheck.loopCpuMillis()).isPositive().isFinite();
  }

  @Test
  void aVirtualThreadCannotTimeItsOwnCpu() throws InterruptedException {
    AtomicLong nanos = new AtomicLong();
    Thread.ofVirtual().start(() -> nanos.set(MachineCheck.loopCpuNanos(1000))).join();
    assertThat(nanos).hasValue(-1);
  }
}
