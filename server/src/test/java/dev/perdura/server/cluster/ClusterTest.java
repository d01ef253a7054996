package dev.perdura.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.perdura.server.ClusterOptions;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.store.TestPostgres;
import dev.perdura.server.store.postgres.PostgresStore;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.Promise;
import io.temporal.workflow.SignalMethod;
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
 * Several servers on one PostgreSQL database, driven by the official Temporal SDK: the servers
 * split the history shards and task queues among them, calls to any server reach the owner of
 * what they are about, work that spans shards (child workflows, signals between workflows) crosses
 * servers, and when a server stops or dies the others take its shards over and finish the
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

  @WorkflowInterface
  public interface Receiver {
    @WorkflowMethod
    String run();

    @SignalMethod
    void deliver(String value);
  }

  public static class ReceiverImpl implements Receiver {
    private String value;

    @Override
    public String run() {
      Workflow.await(() -> value != null);
      return "got " + value;
    }

    @Override
    public void deliver(String value) {
      this.value = value;
    }
  }

  @WorkflowInterface
  public interface Parent {
    @WorkflowMethod
    String run(List<String> childIds, String receiverId);
  }

  public static class ParentImpl implements Parent {
    @Override
    public String run(List<String> childIds, String receiverId) {
      List<Promise<String>> results = new ArrayList<>();
      for (String id : childIds) {
        TwoSteps child = Workflow.newChildWorkflowStub(TwoSteps.class,
            ChildWorkflowOptions.newBuilder().setWorkflowId(id).build());
        results.add(Async.function(child::run, id));
      }
      Workflow.newExternalWorkflowStub(Receiver.class, receiverId).deliver("hello from the parent");
      List<String> done = new ArrayList<>();
      for (Promise<String> result : results) {
        done.add(result.get());
      }
      return String.join("; ", done);
    }
  }

  static final java.util.Set<String> sawCancel = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @ActivityInterface
  public interface Beats {
    String beat(String name);
  }

  /** Heartbeats until the workflow cancels it, as in the cancellation guide. */
  public static class BeatsImpl implements Beats {
    @Override
    public String beat(String name) {
      for (int i = 0; i < 600; i++) {
        try {
          Activity.getExecutionContext().heartbeat(i);
        } catch (ActivityCanceledException e) {
          sawCancel.add(name);
          throw e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return name + " interrupted";
        }
      }
      return name + " never saw the cancel";
    }
  }

  @WorkflowInterface
  public interface Cancelling {
    @WorkflowMethod
    String run(String name);

    @QueryMethod
    String stage();
  }

  public static class CancellingImpl implements Cancelling {
    private String stage = "started";

    @Override
    public String run(String name) {
      Beats beats = Workflow.newActivityStub(Beats.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(60))
          .setHeartbeatTimeout(Duration.ofSeconds(2))
          .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
          .build());
      List<Promise<String>> beating = new ArrayList<>();
      CancellationScope scope = Workflow.newCancellationScope(() -> {
        beating.add(Async.function(beats::beat, name));
      });
      scope.run();
      stage = "heartbeating";
      Workflow.sleep(Duration.ofSeconds(3));
      scope.cancel();
      try {
        return "not cancelled: " + beating.get(0).get();
      } catch (io.temporal.failure.ActivityFailure e) {
        stage = "done";
        return "activity " + e.getCause().getClass().getSimpleName();
      }
    }

    @Override
    public String stage() {
      return stage;
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
    worker.registerWorkflowImplementationTypes(TwoStepsImpl.class, ParentImpl.class, ReceiverImpl.class,
        CancellingImpl.class);
    worker.registerActivitiesImplementations(new StepsImpl(), new BeatsImpl());
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

  /** Waits until the servers hold every shard between them, none more than its share. */
  private static void awaitEvenShares(PerduraServer... servers) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      int total = 0;
      for (PerduraServer server : servers) {
        assertThat(server.ownedShards()).isBetween(1, (ClusterNode.SHARDS + servers.length - 1) / servers.length);
        total += server.ownedShards();
      }
      assertThat(total).isEqualTo(ClusterNode.SHARDS);
    });
  }

  /** The address of the server that holds each shard's lease now. */
  private static List<String> shardOwners(Storage.Postgres database) {
    try (PostgresStore store = PostgresStore.open(database)) {
      String[] owners = new String[ClusterNode.SHARDS];
      for (PostgresStore.LeaseRow row : store.leases(ClusterNode.SHARD_PREFIX)) {
        if (row.live()) {
          owners[Integer.parseInt(row.lease().name().substring(ClusterNode.SHARD_PREFIX.length()))] =
              row.lease().address();
        }
      }
      return List.of(owners);
    }
  }

  /** A workflow id, with {@code prefix}, whose shard the server at {@code address} owns. */
  private static String idOwnedBy(List<String> owners, String address, String prefix) {
    for (int i = 0; ; i++) {
      String id = prefix + "-" + i + "-" + UUID.randomUUID();
      if (address.equals(owners.get(HistoryService.runShard("default", id, ClusterNode.SHARDS)))) {
        return id;
      }
    }
  }

  /** A task queue name whose shard the server at {@code address} owns. */
  private static String queueServedBy(List<String> owners, String address) {
    while (true) {
      String queue = "cluster-" + UUID.randomUUID();
      if (address.equals(owners.get(HistoryService.queueShard("default", queue, ClusterNode.SHARDS)))) {
        return queue;
      }
    }
  }

  @Test
  void theServersShareTheShardsAndCallsToAnyOfThemReachTheOwner() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_calls");
    PerduraServer first = server(database);
    assertThat(first.ownedShards()).as("alone, a server owns every shard").isEqualTo(ClusterNode.SHARDS);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);

    String queue = "cluster-" + UUID.randomUUID();
    WorkflowClient viaSecond = client(second);
    worker(viaSecond, queue).start();
    List<String> owners = shardOwners(database);
    for (PerduraServer owner : List.of(first, second)) {
      String id = idOwnedBy(owners, owner.target(), "via-second");
      assertThat(stub(viaSecond, queue, id).run(id)).isEqualTo("first " + id + " done, second " + id + " done");
    }

    // A conflict comes back with Temporal's failure details intact, whichever server was asked.
    String duplicate = idOwnedBy(owners, first.target(), "dup");
    WorkflowClient.start(stub(viaSecond, queue, duplicate)::run, "x");
    assertThatThrownBy(() -> WorkflowClient.start(stub(viaSecond, queue, duplicate)::run, "x"))
        .isInstanceOf(WorkflowExecutionAlreadyStarted.class);
    assertThat(client(first).newUntypedWorkflowStub(duplicate).getResult(30, TimeUnit.SECONDS, String.class))
        .isEqualTo("first x done, second x done");
  }

  @Test
  void childWorkflowsAndSignalsCrossServers() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_cross");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);
    List<String> owners = shardOwners(database);

    String queue = "cluster-" + UUID.randomUUID();
    WorkflowClient viaFirst = client(first);
    worker(client(second), queue).start();
    String receiverId = idOwnedBy(owners, second.target(), "receiver");
    WorkflowClient.start(viaFirst.newWorkflowStub(Receiver.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(receiverId).build())::run);
    String parentId = idOwnedBy(owners, first.target(), "parent");
    List<String> children = List.of(idOwnedBy(owners, second.target(), "child"),
        idOwnedBy(owners, first.target(), "child"));
    Parent parent = viaFirst.newWorkflowStub(Parent.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(parentId).build());

    assertThat(parent.run(children, receiverId)).isEqualTo(children.stream()
        .map(id -> "first " + id + " done, second " + id + " done").reduce((a, b) -> a + "; " + b).orElseThrow());
    assertThat(viaFirst.newUntypedWorkflowStub(receiverId).getResult(30, TimeUnit.SECONDS, String.class))
        .isEqualTo("got hello from the parent");
  }

  /** Polls waiting in the server's task queues now, as its metrics say. */
  private static int waitingPolls(PerduraServer server) throws Exception {
    String body = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(
            "http://127.0.0.1:" + server.metricsPort().getAsInt() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    return body.lines().filter(line -> line.startsWith("perdura_matching_waiting_polls "))
        .mapToInt(line -> (int) Double.parseDouble(line.substring(line.indexOf(' ') + 1))).findFirst().orElseThrow();
  }

  @Test
  void aWorkerThatStopsEndsItsPollsWaitingOnOtherServers() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_shutdown");
    PerduraServer first = PerduraServer.start(new ServerConfig("127.0.0.1", 0, database, List.of())
        .withCluster(new ClusterOptions(null, LEASE)).withMetricsPort(0));
    resources.add(first);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);
    List<String> owners = shardOwners(database);
    // A queue that the first server serves, polled by a worker connected to the second: its polls
    // wait at the first server, forwarded.
    String queue = queueServedBy(owners, first.target());
    WorkerFactory factory = WorkerFactory.newInstance(client(second));
    factory.newWorker(queue).registerWorkflowImplementationTypes(TwoStepsImpl.class);
    factory.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> waitingPolls(first) > 0);

    factory.shutdownNow();
    factory.awaitTermination(10, TimeUnit.SECONDS);
    // A poll waits up to 60 s; the worker's cancellation must reach the server it waits at.
    await().atMost(Duration.ofSeconds(20)).until(() -> waitingPolls(first) == 0);
  }

  @Test
  void aWorkflowCancelsItsHeartbeatingActivityAndAnswersQueriesAcrossServers() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_cancel");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);
    List<String> owners = shardOwners(database);
    // The run on the first server, its task queue on the second; the worker connected to the first,
    // the client to the second.
    String queue = queueServedBy(owners, second.target());
    worker(client(first), queue).start();
    WorkflowClient viaSecond = client(second);
    String id = idOwnedBy(owners, first.target(), "cancelling");
    Cancelling workflow = viaSecond.newWorkflowStub(Cancelling.class,
        WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(id).build());
    WorkflowClient.start(workflow::run, id);

    await().atMost(Duration.ofSeconds(30)).until(workflow::stage, "heartbeating"::equals);
    assertThat(viaSecond.newUntypedWorkflowStub(id).getResult(60, TimeUnit.SECONDS, String.class))
        .isEqualTo("activity CanceledFailure");
    assertThat(sawCancel).contains(id);
    assertThat(workflow.stage()).isEqualTo("done");
    List<EventType> events = viaSecond.fetchHistory(id).getHistory().getEventsList().stream()
        .map(HistoryEvent::getEventType).toList();
    assertThat(events).contains(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  }

  @Test
  void aServerThatJoinsGetsItsShare() {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_join");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);
    PerduraServer third = server(database);
    awaitEvenShares(first, second, third);
  }

  @Test
  void whenAServerIsKilledTheOthersTakeItsShardsOverOnceTheirLeasesExpire(@TempDir Path dir) throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_kill");
    try (ServerProcess first = new ServerProcess(dir, database, "--lease-seconds", "2")) {
      first.start();
      PerduraServer second = server(database);
      await().atMost(Duration.ofSeconds(60)).until(() -> second.ownedShards() == ClusterNode.SHARDS / 2);

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
      await().atMost(Duration.ofSeconds(30)).until(() -> second.ownedShards() == ClusterNode.SHARDS);
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
  void whenAServerStopsTheOthersTakeItsShardsOverAndFinishTheWorkflowsInFlight() throws Exception {
    Storage.Postgres database = TestPostgres.get().newDatabase("cluster_takeover");
    PerduraServer first = server(database);
    PerduraServer second = server(database);
    awaitEvenShares(first, second);

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
    await().atMost(Duration.ofSeconds(30)).until(() -> second.ownedShards() == ClusterNode.SHARDS);

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
