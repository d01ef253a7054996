package dev.perdura.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkflowEnvironmentTest {
  public static class Greeter {
    @ActivityMethod
    public String greet(String name) {
      return "Hello, " + name;
    }
  }

  public static class GreetingWorkflow {
    @WorkflowMethod
    public String run(String name) {
      Workflow.sleep(Duration.ofMillis(100));
      return Workflow.executeActivity("greet", String.class, ActivityOptions.startToClose(Duration.ofSeconds(10)), name);
    }
  }

  @Test
  void aWorkflowRunsOnTheEmbeddedServer() {
    try (WorkflowEnvironment env = WorkflowEnvironment.start()) {
      env.newWorker("greetings").registerWorkflows(GreetingWorkflow.class).registerActivities(new Greeter()).start();
      assertThat(env.client().executeWorkflow("GreetingWorkflow", String.class,
          StartWorkflowOptions.of("greeting-1", "greetings"), "Ada")).isEqualTo("Hello, Ada");
      assertThat(env.target()).startsWith("127.0.0.1:");
    }
  }
}
