package dev.perdura.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.StartWorkflowOptions;
import dev.perdura.workflow.ActivityOptions;
import dev.perdura.workflow.Workflow;
import dev.perdura.workflow.WorkflowMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowReplayerTest {
  public static class Steps {
    @ActivityMethod
    public String step(String name) {
      return "step " + name;
    }
  }

  public static class Original {
    @WorkflowMethod(name = "Pipeline")
    public String run() {
      String first = Workflow.executeActivity("step", String.class, ActivityOptions.startToClose(Duration.ofSeconds(10)), "a");
      Workflow.sleep(Duration.ofMillis(50));
      return first;
    }
  }

  /** Same type name; the timer now comes first. */
  public static class Reordered {
    @WorkflowMethod(name = "Pipeline")
    public String run() {
      Workflow.sleep(Duration.ofMillis(50));
      return Workflow.executeActivity("step", String.class, ActivityOptions.startToClose(Duration.ofSeconds(10)), "a");
    }
  }

  @Test
  void theSameCodeReplaysAndAReorderedOneIsCaught() {
    try (WorkflowEnvironment env = WorkflowEnvironment.start()) {
      env.newWorker("pipelines").registerWorkflows(Original.class).registerActivities(new Steps()).start();
      assertThat(env.client().executeWorkflow("Pipeline", String.class, StartWorkflowOptions.of("p-1", "pipelines")))
          .isEqualTo("step a");

      WorkflowReplayer.replay(env.client(), "p-1", Original.class);
      assertThatThrownBy(() -> WorkflowReplayer.replay(env.client(), "p-1", Reordered.class))
          .isInstanceOf(WorkflowReplayer.ReplayMismatchException.class)
          .hasMessageContaining("ACTIVITY_TASK_SCHEDULED").hasMessageContaining("StartTimer");
    }
  }

  @Test
  void aHistoryExportedToAFileReplaysFromItAndCatchesTheReorderedCode(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("p-2.json");
    try (WorkflowEnvironment env = WorkflowEnvironment.start()) {
      env.newWorker("pipelines-file").registerWorkflows(Original.class).registerActivities(new Steps()).start();
      env.client().executeWorkflow("Pipeline", String.class, StartWorkflowOptions.of("p-2", "pipelines-file"));
      WorkflowReplayer.exportHistory(env.client(), "p-2", file);
    }
    // The server is gone: the file is all there is.
    assertThat(Files.readString(file)).contains("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "\"workflowId\": \"p-2\"");

    WorkflowReplayer.replayFile(file, Original.class);
    assertThatThrownBy(() -> WorkflowReplayer.replayFile(file, Reordered.class))
        .isInstanceOf(WorkflowReplayer.ReplayMismatchException.class)
        .hasMessageContaining("p-2").hasMessageContaining("StartTimer");
  }

  @Test
  void aFileThatHoldsNoHistoryIsRefusedWithItsName(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("empty.json");
    Files.writeString(file, "{}");

    assertThatThrownBy(() -> WorkflowReplayer.replayFile(file, Original.class))
        .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("empty.json");
  }
}
