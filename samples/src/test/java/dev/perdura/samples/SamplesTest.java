package dev.perdura.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Each sample runs on an embedded server and prints what the seed says should happen. */
class SamplesTest {

  private static String run(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int exit = new CommandLine(new SamplesCli(out)).execute(args);
    assertThat(exit).as("exit code of sample %s", String.join(" ", args)).isZero();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theListNamesEverySample() {
    assertThat(run("--list")).contains("logging", "cancellation", "dynamic-activity", "async-completion", "shield",
        "tracked-activity", "local-activity");
  }

  @Test
  void theCancellationGuideCancelsTheHeartbeatingActivity() {
    String output = run("cancellation");
    assertThat(output).contains("Executing activity", "Heartbeating cancel activity",
        "Activity cancelled (CANCEL_REQUESTED)",
        "Workflow result: run_activity returned 3; cancellable_activity ended with CanceledFailure");
    assertThat(output.indexOf("Activity cancelled")).isLessThan(output.indexOf("Workflow result"));
  }

  @Test
  void theDynamicActivityServesUnregisteredTypes() {
    assertThat(run("dynamic-activity")).contains("shout -> String processing: hello", "add -> Math result: 42",
        "mixed -> Generic processing: [a, 1, true]");
  }

  @Test
  void anExternalSystemCompletesTheActivity() {
    assertThat(run("async-completion")).contains("Starting external task task-7",
        "External system completes the activity", "Workflow result: External completion result");
  }

  @Test
  void theShieldLetsTheCriticalSectionFinish() {
    String output = run("shield");
    assertThat(output).contains("critical step 6 done, cancelled=true", "critical resources cleaned up",
        "Cancelled after cleanup", "Workflow result: activity ended with CanceledFailure");
  }

  @Test
  void aRetriedAttemptResumesFromTheHeartbeatedProgress() {
    String output = run("tracked-activity");
    assertThat(output).contains("(attempt 1) for workflow TracksProgress, resuming after item 0",
        "(attempt 2) for workflow TracksProgress, resuming after item 3", "item 6 of 6 done",
        "Workflow result: Processed 6 items in attempt 2");
  }

  @Test
  void aLocalActivityIsCancelledWithoutHeartbeats() {
    assertThat(run("local-activity")).contains("local activity started (local=true), no heartbeats",
        "quick check done", "local activity cancelled: CANCEL_REQUESTED",
        "Workflow result: checked order-9; the slow local activity ended with CanceledFailure");
  }

  @Test
  void anotherWorkerFinishesWhatAShutdownInterrupted() {
    String output = run("worker-shutdown");
    assertThat(output).contains("Shutting the first worker down", "Worker shutdown, saved progress up to item",
        "Workflow result: processed items");
    assertThat(output).containsPattern("processed items (\\d+)\\.\\.20 on attempt 2");
    assertThat(output).doesNotContain("processed items 1..20");
  }

  @Test
  void anActivityThatOptedOutReturnsWhenItSeesTheCancellation() {
    String output = run("monitoring");
    assertThat(output).containsPattern("Cancelled during monitoring after \\d+ units \\(CANCEL_REQUESTED\\)");
    // It returned normally, so it completed: the workflow sees its result, not a cancellation.
    assertThat(output).contains("Workflow result: monitor returned: Cancelled during monitoring",
        "work_units recorded: more than one");
  }

  @Test
  void theContextualLoggerPutsTheActivitysContextOnTheMessageOrOnlyInTheMdc() {
    String output = run("logging");
    assertThat(output).contains("Workflow result: Hello, Perdura!");
    assertThat(output).containsPattern(
        "\\[dev\\.perdura\\.activity\\] Greeting Perdura \\(\\{activity_id=1, activity_type=greet, attempt=1, .*workflow_type=LoggingWorkflow\\}\\)");
    assertThat(output).contains(
        "MDC keys: [activity_id, activity_type, attempt, namespace, task_queue, workflow_id, workflow_run_id, workflow_type]");
    // The custom logger: nothing appended to the message, every info field in the MDC.
    assertThat(output).containsPattern("\\[dev\\.perdura\\.samples\\.custom\\] custom logging with full activity info in the MDC\\R");
    assertThat(output).containsPattern("MDC keys: \\[activity_current_attempt_scheduled_time, .*activity_start_to_close_timeout.*\\]");
  }
}
