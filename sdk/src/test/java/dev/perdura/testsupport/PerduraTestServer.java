package dev.perdura.testsupport;

import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Perdura server on a free port (SQLite file in a temporary directory) for a test class, with a
 * Perdura client and an official Temporal client on it. Workers and worker factories created
 * through it are shut down after each test.
 */
public final class PerduraTestServer implements BeforeAllCallback, AfterAllCallback, AfterEachCallback {
  private Path dir;
  private PerduraServer server;
  private PerduraClient client;
  private WorkflowServiceStubs temporalService;
  private WorkflowClient temporalClient;
  private final List<AutoCloseable> perTest = new ArrayList<>();

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("perdura-sdk-test");
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
    client = PerduraClient.connect(ClientOptions.target(server.target()));
    temporalService = WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
    temporalClient = WorkflowClient.newInstance(temporalService,
        WorkflowClientOptions.newBuilder().setNamespace("default").build());
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (AutoCloseable closeable : perTest.reversed()) {
      closeable.close();
    }
    perTest.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    client.close();
    temporalService.shutdownNow();
    server.close();
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String target() {
    return server.target();
  }

  /** The Perdura SDK client. */
  public PerduraClient client() {
    return client;
  }

  /** The official Temporal SDK client, for driving activities from workflows written with it. */
  public WorkflowClient temporalClient() {
    return temporalClient;
  }

  /** Closed after the test (workers, factories, other clients). */
  public <T extends AutoCloseable> T closeAfterTest(T closeable) {
    perTest.add(closeable);
    return closeable;
  }

  /** An official-SDK worker factory, shut down after the test. */
  public WorkerFactory temporalWorkerFactory() {
    WorkerFactory factory = WorkerFactory.newInstance(temporalClient);
    perTest.add(factory::shutdownNow);
    return factory;
  }

  public static String uniqueQueue(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }
}
