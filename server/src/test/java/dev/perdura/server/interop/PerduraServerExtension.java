package dev.perdura.server.interop;

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
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a Perdura server on a free port with a SQLite file in a temporary directory for a test
 * class, and gives tests an official Temporal client connected to it. Worker factories made with
 * {@link #newWorkerFactory()} are shut down after each test.
 */
public final class PerduraServerExtension implements BeforeAllCallback, AfterAllCallback, AfterEachCallback {
  private Path dir;
  private PerduraServer server;
  private WorkflowServiceStubs service;
  private WorkflowClient client;
  private final List<WorkerFactory> factories = new ArrayList<>();

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("perdura-test");
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
    service = WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
    client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace("default").build());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (WorkerFactory factory : factories) {
      factory.shutdownNow();
    }
    factories.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    service.shutdownNow();
    server.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public PerduraServer server() {
    return server;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkerFactory newWorkerFactory() {
    WorkerFactory factory = WorkerFactory.newInstance(client);
    factories.add(factory);
    return factory;
  }

  /** A task queue name no other test uses. */
  public static String uniqueQueue(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }
}
