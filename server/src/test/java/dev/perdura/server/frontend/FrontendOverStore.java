package dev.perdura.server.frontend;

import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.Peers;
import dev.perdura.server.matching.Matching;
import dev.perdura.server.store.Store;
import dev.perdura.server.store.sqlite.SqliteStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.api.common.v1.WorkflowType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * A frontend with its history service and matching over an in-memory SQLite store, without a gRPC
 * server (tests); every commit passes {@link CommitHook} first, which may count, hold or fail it.
 */
final class FrontendOverStore implements AutoCloseable {
  /** Sees each commit's writes before the store does; what it throws, the commit throws. */
  @FunctionalInterface
  interface CommitHook {
    void beforeCommit(List<?> writes) throws Exception;
  }

  final Store real = SqliteStore.inMemory();
  final Matching matching = new Matching();
  final HistoryService history;
  final WorkflowServiceFrontend frontend;

  /** {@code calls} runs the handlers that wait, as the server's virtual-thread executor does. */
  FrontendOverStore(String namespace, MeterRegistry metrics, Executor calls, CommitHook hook) {
    real.migrate();
    Store hooked = (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class},
        (proxy, method, args) -> {
          if (method.getName().equals("commit")) {
            hook.beforeCommit((List<?>) args[0]);
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Clock clock = Clock.systemUTC();
    Namespaces namespaces = new Namespaces(hooked, clock);
    namespaces.ensure(namespace);
    history = new HistoryService(hooked, matching, clock, 1, metrics, Peers.NONE);
    history.start();
    history.acquireAll();
    frontend = new WorkflowServiceFrontend(namespaces, history, matching, hooked, calls);
  }

  /** A start of a workflow of type "Greeting" with a request id of its own. */
  static StartWorkflowExecutionRequest startRequest(String namespace, String queue, String workflowId) {
    return StartWorkflowExecutionRequest.newBuilder()
        .setNamespace(namespace)
        .setWorkflowId(workflowId)
        .setWorkflowType(WorkflowType.newBuilder().setName("Greeting"))
        .setTaskQueue(TaskQueue.newBuilder().setName(queue))
        .setRequestId(UUID.randomUUID().toString())
        .build();
  }

  @Override
  public void close() {
    matching.close();
    frontend.close();
    history.close();
    real.close();
  }
}
