package dev.perdura.testsupport;

import dev.perdura.worker.Worker;
import dev.perdura.worker.WorkerOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.UUID;

/**
 * One test's setup: a Perdura SDK worker for activities on its own queue, and an official-SDK worker
 * running {@link DriverWorkflow} on another, both closed after the test.
 */
public final class Scenario {
  private final PerduraTestServer server;
  private final String activityQueue = PerduraTestServer.uniqueQueue("activities");
  private final String workflowQueue = PerduraTestServer.uniqueQueue("driver");
  private Worker worker;

  private Scenario(PerduraTestServer server) {
    this.server = server;
    var factory = server.temporalWorkerFactory();
    factory.newWorker(workflowQueue).registerWorkflowImplementationTypes(DriverWorkflow.Impl.class);
    factory.start();
  }

  public static Scenario on(PerduraTestServer server) {
    return new Scenario(server);
  }

  /** Starts the Perdura worker with these activities. */
  public Scenario activities(WorkerOptions options, Object... implementations) {
    worker = Worker.create(server.client(), activityQueue, options);
    worker.registerActivities(implementations);
    server.closeAfterTest(worker);
    worker.start();
    return this;
  }

  public Scenario activities(Object... implementations) {
    return activities(WorkerOptions.DEFAULTS, implementations);
  }

  public Worker worker() {
    return worker;
  }

  public String activityQueue() {
    return activityQueue;
  }

  /** The queue the driver workflow's worker polls. */
  public String driverQueue() {
    return workflowQueue;
  }

  public DriverWorkflow.Plan plan(String activityType, Object... args) {
    return DriverWorkflow.Plan.of(activityType, activityQueue, args);
  }

  /** Starts the driver workflow; returns its execution. */
  public WorkflowExecution start(DriverWorkflow.Plan plan) {
    DriverWorkflow workflow = server.temporalClient().newWorkflowStub(DriverWorkflow.class,
        WorkflowOptions.newBuilder()
            .setTaskQueue(workflowQueue)
            .setWorkflowId("driver-" + UUID.randomUUID())
            .setWorkflowExecutionTimeout(Duration.ofMinutes(2))
            .build());
    return WorkflowClient.start(workflow::run, plan);
  }

  /** Runs the driver workflow to its end and returns how the activity ended. */
  public String run(DriverWorkflow.Plan plan) {
    return result(start(plan));
  }

  public String result(WorkflowExecution execution) {
    return server.temporalClient().newUntypedWorkflowStub(execution, java.util.Optional.empty())
        .getResult(String.class);
  }

  public WorkflowStub stub(WorkflowExecution execution) {
    return server.temporalClient().newUntypedWorkflowStub(execution, java.util.Optional.empty());
  }
}
