package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerProcessTest {
  @Test
  void theComparedServerGetsTheLaunchersFlagsThenItsServerOptions() {
    assertThat(ServerProcess.launcherOptions(Map.of(
        "PERDURA_JVM_FLAGS", "--enable-native-access=ALL-UNNAMED -XX:+UseCompactObjectHeaders",
        "PERDURA_SERVER_JAVA_OPTS", " -Xmx96m  -XX:+UseSerialGC ")))
        .containsExactly("--enable-native-access=ALL-UNNAMED", "-XX:+UseCompactObjectHeaders", "-Xmx96m",
            "-XX:+UseSerialGC");
  }

  @Test
  void withoutTheLauncherOnlyNativeAccessIsGiven() {
    assertThat(ServerProcess.launcherOptions(Map.of())).containsExactly("--enable-native-access=ALL-UNNAMED");
  }

  @Test
  void aPausedServerUsesNoCpuUntilResumedAndStillStops(@TempDir Path dir) throws Exception {
    try (ServerProcess perdura = ServerProcess.start(ServerProcess.Kind.PERDURA, dir, List.of())) {
      perdura.pause();
      await().atMost(Duration.ofSeconds(10)).until(() -> state(perdura.pid()) == 'T');
      perdura.resume();
      await().atMost(Duration.ofSeconds(10)).until(() -> state(perdura.pid()) != 'T');
      perdura.pause();
      // Stopped while paused: close() continues it so that it receives its SIGTERM.
      perdura.close();
      assertThat(ProcessHandle.of(perdura.pid()).filter(ProcessHandle::isAlive)).isEmpty();
    }
  }

  /** The process's state letter in {@code /proc/PID/stat}: T while stopped by a signal. */
  private static char state(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }
}
