package dev.perdura.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.ClusterOptions;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import dev.perdura.server.store.TestPostgres;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import dev.perdura.server.crash.ServerProcess;
import java.nio.file.Path;

/**
 * Several servers on one PostgreSQL database, driven by the official Temporal SDK: calls to any
 * server reach the active one, and when the active one stops another takes over and finishes the
 * workflows in flight.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterTest {
  private static final Duration LEASE = Duration.ofSeconds(2);
  static final AtomicInteger firstSteps = new AtomicInteger();

  private final List<AutoCloseable> resources = new ArrayList<>();

  @ActivityInterface
  public interface Steps {
    String step(String name);
  }

  public static class StepsImpl implements Steps {
    @Override
    public String step(String name) {
      if (name.startsWith("first")) {
        firstSteps.incrementAndGet();
      }
      return name + " done";
    }
  }

  @WorkflowInterface
  public interface TwoSteps {
    @WorkflowMethod
    String run(String id);
  }

  public static class TwoStepsImpl implements TwoSteps {
    @Override
    public String run(String id) {
      Steps steps = Workflow.newActivityStub(Steps.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(10))
          .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(200)).build())
          .build());
      String first = steps.step("first " + id);
      Workflow.sleep(Duration.ofSeconds(1));
      return first + ", " + steps.step("second " + id);
    }
  }

  private PerduraServer server(Storage.Postgres database) {
    PerduraServer server = PerduraServer.start(
        new ServerConfig("127.0.0.1", 0, database, List.of()).withCluster(new ClusterOptions(null, LEASE)));
    resources.add(server);
    return server;
  }

  private WorkflowClient client(PerduraServer server) {
    WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
    resources.add(service::shutdownNow);
    return WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace("default").build());
  }

  private WorkerFactory worker(WorkflowClient client, String queue) {
    WorkerFactory factory = WorkerFactory.newInstance(client);
    var worker = factory.newWorker(queue);
    worker.registerWorkflowImplementationTypes(TwoStepsImpl.class);
    worker.registerActivitiesImplementations(new StepsImpl());
    resources.add(0, () -> {
      factory.shutdownNow();
      factory.awaitTermination(10, TimeUnit.SECONDS);
    });
    return factory;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  private static TwoSteps stub(WorkflowClient client, String queue, String id) {
    return client.newWorkflowStub(TwoSteps.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(id).build());
  }

  @Test
  void callsToAnyServerReachTheActiveOne() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_calls");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    assertThat(first.isActive()).isTrue();
    assertThat(second.isActive()).isFalse();

    String queue = "cluster-" + UUID.randomUUID();
    WorkflowClient viaSecond = client(second);
    worker(viaSecond, queue).start();
    String id = "via-second-" + UUID.randomUUID();
    assertThat(stub(viaSecond, queue, id).run(id)).isEqualTo("first " + id + " done, second " + id + " done");

    // A conflict comes back with Temporal's failure details intact, whichever server was asked.
    TwoSteps again = stub(viaSecond, queue, id + "-dup");
    WorkflowClient.start(again::run, "x");
    assertThatThrownBy(() -> WorkflowClient.start(stub(viaSecond, queue, id + "-dup")::run, "x"))
        .isInstanceOf(WorkflowExecutionAlreadyStarted.class);
    assertThat(client(first).newUntypedWorkflowStub(id + "-dup").getResult(30, TimeUnit.SECONDS, String.class))
        .isEqualTo("first x done, second x done");
  }

  @Test
  void whenTheActiveServerIsKilledAnotherTakesOverOnceItsLeaseExpires(@TempDir Path dir) throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_kill");
    try (ServerProcess first = new ServerProcess(dir, database, "--lease-seconds", "2")) {
      first.start();
      PerduraServer second = server(database);
      assertThat(second.isActive()).as("the server process started first holds the lease").isFalse();

      String queue = "cluster-" + UUID.randomUUID();
      WorkflowClient viaSecond = client(second);
      WorkerFactory factory = worker(viaSecond, queue);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String id = "kill-" + i + "-" + UUID.randomUUID();
        ids.add(id);
        WorkflowClient.start(stub(viaSecond, queue, id)::run, id);
      }
      int before = firstSteps.get();
      factory.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> firstSteps.get() - before >= 10);

      first.kill();
      await().atMost(Duration.ofSeconds(30)).until(second::isActive);
      for (String id : ids) {
        assertThat(viaSecond.newUntypedWorkflowStub(id).getResult(60, TimeUnit.SECONDS, String.class))
            .isEqualTo("first " + id + " done, second " + id + " done");
        List<EventType> events = viaSecond.fetchHistory(id).getHistory().getEventsList().stream()
            .map(HistoryEvent::getEventType).toList();
        assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)).hasSize(1);
      }
    }
  }

  @Test
  void whenTheActiveServerStopsAnotherTakesOverAndFinishesTheWorkflowsInFlight() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_takeover");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    assertThat(first.isActive()).isTrue();

    String queue = "cluster-" + UUID.randomUUID();
    WorkflowClient viaSecond = client(second);
    WorkerFactory factory = worker(viaSecond, queue);
    int workflows = 20;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < workflows; i++) {
      String id = "takeover-" + i + "-" + UUID.randomUUID();
      ids.add(id);
      WorkflowClient.start(stub(viaSecond, queue, id)::run, id);
    }
    int before = firstSteps.get();
    factory.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> firstSteps.get() - before >= workflows / 2);

    first.close();
    await().atMost(Duration.ofSeconds(30)).until(second::isActive);

    for (String id : ids) {
      WorkflowStub workflow = viaSecond.newUntypedWorkflowStub(id);
      assertThat(workflow.getResult(60, TimeUnit.SECONDS, String.class))
          .isEqualTo("first " + id + " done, second " + id + " done");
      List<EventType> events = viaSecond.fetchHistory(id).getHistory().getEventsList().stream()
          .map(HistoryEvent::getEventType).toList();
      assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).hasSize(2);
      assertThat(events.stream().filter(t -> t == EventType.EVENT_TYPE_TIMER_FIRED)).hasSize(1);
    }
  }
}
