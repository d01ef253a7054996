package dev.perdura.server.crash;

import static org.awaitility.Awaitility.await;

import dev.perdura.server.Storage;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Perdura server in its own JVM (on a SQLite file or a PostgreSQL database), so a test can kill
 * it the way a power cut would and start it again on the same data and port.
 */
public final class ServerProcess implements AutoCloseable {
  private final int port;
  private final List<String> storageOptions;
  private final Path log;
  private Process process;

  /** A server on a SQLite file in {@code dir}. */
  ServerProcess(Path dir) {
    this(dir, List.of("start-dev", "--db-file", dir.resolve("perdura.db").toString()));
  }

  /** A server on a PostgreSQL database, with more options of {@code server start}. */
  public ServerProcess(Path dir, Storage.Postgres database, String... options) {
    this(dir, concat(List.of("start", "--postgres-url", database.jdbcUrl(), "--postgres-user", database.user()),
        List.of(options)));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private ServerProcess(Path dir, List<String> storageOptions) {
    this.port = freePort();
    this.storageOptions = storageOptions;
    this.log = dir.resolve("server.log");
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String target() {
    return "127.0.0.1:" + port;
  }

  /** Starts the server and waits until its health service answers SERVING. */
  public void start() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(
        java, "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        "dev.perdura.server.cli.PerduraCli", "server"));
    command.addAll(storageOptions);
    command.addAll(List.of("--ip", "127.0.0.1", "--port", Integer.toString(port)));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(target()).usePlaintext().build();
    try {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> {
            if (!process.isAlive()) {
              throw new AssertionError("the server exited with " + process.exitValue() + "; log:\n" + logText());
            }
            return health.withDeadlineAfter(2, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService("temporal.api.workflowservice.v1.WorkflowService").build())
                .getStatus() == ServingStatus.SERVING;
          });
    } finally {
      channel.shutdownNow();
    }
  }

  /** SIGKILL: no shutdown hook, no flush, no clean close of the database. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the server process " + process.pid() + " did not die");
    }
  }

  public String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
