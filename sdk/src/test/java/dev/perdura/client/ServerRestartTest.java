package dev.perdura.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call made while the server is away is retried until it is back (within the call's deadline):
 * a restart, or another server taking over from a crashed one, does not fail the client's calls.
 */
class ServerRestartTest {

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void aCallMadeWhileTheServerIsDownSucceedsOnceItIsBack(@TempDir Path dir) throws Exception {
    int port = freePort();
    ServerConfig config = new ServerConfig("127.0.0.1", port, dir.resolve("perdura.db"), List.of());
    PerduraServer first = PerduraServer.start(config);
    try (PerduraClient client = PerduraClient.connect(ClientOptions.target(first.target()))) {
      String workflowId = "restart-" + UUID.randomUUID();
      client.startWorkflow("Anything", StartWorkflowOptions.of(workflowId, "restart-queue"));
      first.close();

      CompletableFuture<String> describe = CompletableFuture.supplyAsync(
          () -> client.workflowHandle(workflowId).describe().status().name());
      // Down for longer than the few seconds gRPC's default five attempts would cover.
      Thread.sleep(Duration.ofSeconds(6));
      assertThat(describe).isNotDone();
      try (PerduraServer second = PerduraServer.start(config)) {
        assertThat(describe.get(30, TimeUnit.SECONDS)).isEqualTo("RUNNING");
      }
    }
  }
}
