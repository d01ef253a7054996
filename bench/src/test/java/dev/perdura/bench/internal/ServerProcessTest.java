package dev.perdura.bench.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
