package dev.perdura.testing;

import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * A Perdura server inside the test's JVM (in-memory store, a free port on 127.0.0.1), a client for it,
 * and workers that stop with it: for users' own tests of workflows and activities.
 *
 * <pre>{@code
 * try (WorkflowEnvironment env = WorkflowEnvironment.start()) {
 *   env.newWorker("orders").registerWorkflows(OrderWorkflow.class).registerActivities(new Shipping()).start();
 *   String result = env.client().executeWorkflow("OrderWorkflow", String.class,
 *       StartWorkflowOptions.of("order-1", "orders"), "order-1");
 * }
 * }</pre>
 */
public final class WorkflowEnvironment implements AutoCloseable {
  private final PerduraServer server;
  private final PerduraClient client;
  private final List<Worker> workers = new ArrayList<>();

  private WorkflowEnvironment(PerduraServer server) {
    this.server = server;
    this.client = PerduraClient.connect(ClientOptions.target(server.target()));
  }

  /** Starts the server; close the environment to stop it. */
  public static WorkflowEnvironment start() {
    return new WorkflowEnvironment(PerduraServer.start(new ServerConfig("127.0.0.1", 0, Storage.inMemory(), List.of())));
  }

  /** {@code host:port} of the server, for clients of other SDKs. */
  public String target() {
    return server.target();
  }

  public PerduraClient client() {
    return client;
  }

  /** A worker on the queue; register, then start it. It is shut down with the environment. */
  public synchronized Worker newWorker(String taskQueue, WorkerOptions options) {
    Worker worker = Worker.create(client, taskQueue, options);
    workers.add(worker);
    return worker;
  }

  public Worker newWorker(String taskQueue) {
    return newWorker(taskQueue, WorkerOptions.DEFAULTS);
  }

  @Override
  public synchronized void close() {
    for (Worker worker : workers) {
      worker.close();
    }
    client.close();
    server.close();
  }
}
