package dev.perdura.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.perdura.bench.internal.CancelScenario;
import dev.perdura.bench.internal.SequentialScenario;
import dev.perdura.bench.internal.Stats;
import dev.perdura.bench.internal.Commands.ClientKind;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.sqlite.SqliteStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Each scenario, tiny, against an in-process Perdura server on a SQLite file, with each client SDK. */
@Timeout(60)
class BenchSmokeTest {
  @TempDir static Path dir;
  static PerduraServer server;

  @BeforeAll
  static void start() {
    server = PerduraServer.start(new ServerConfig("127.0.0.1", 0, dir.resolve("perdura.db"), List.of()));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** The bench's command line, printing its figures to {@code out} and its progress to {@code progress}. */
  private static CommandLine benchCli(ByteArrayOutputStream out, ByteArrayOutputStream progress) {
    return new CommandLine(new BenchCli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(progress, true, StandardCharsets.UTF_8)));
  }

  private static void assertSensible(Stats stats, int count) {
    assertThat(stats.count()).isEqualTo(count);
    assertThat(stats.minMs()).isPositive();
    assertThat(stats.p50Ms()).isBetween(stats.minMs(), stats.p99Ms());
    assertThat(stats.p99Ms()).isLessThanOrEqualTo(stats.maxMs());
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("clientsAndSteps")
  void throughputThroughTheCommandLineWritesJson(ClientKind kind, BenchClient.Step step) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Path json = dir.resolve("throughput.json");
    int status = benchCli(out, progress)
        .execute(java.util.stream.Stream.concat(java.util.stream.Stream.of("throughput", "--address", server.target(),
            "--workflows", "20", "--concurrency", "5", "--client", kind.name(), "--json", json.toString()),
            step == BenchClient.Step.LOCAL_ACTIVITY ? java.util.stream.Stream.of("--local-activities")
                : java.util.stream.Stream.empty()).toArray(String[]::new));

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("throughput", "workflows/s", "p99");
    JsonNode figures = new ObjectMapper().readTree(json.toFile());
    assertThat(figures.get("workflows").asInt()).isEqualTo(20);
    assertThat(figures.get("step").asText()).isEqualTo(step.name());
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("(1 " + step.label() + " each)");
    assertThat(figures.get("workflowsPerSecond").asDouble()).isPositive();
    JsonNode latency = figures.get("latency");
    assertThat(latency.get("count").asInt()).isEqualTo(20);
    assertThat(latency.get("p50Ms").asDouble()).isPositive().isLessThanOrEqualTo(latency.get("p99Ms").asDouble());
  }

  @Test
  void throughputRunsAWarmUpThenEachRoundAndWritesEveryRound() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Path json = dir.resolve("rounds.json");
    int status = benchCli(out, progress)
        .execute("throughput", "--address", server.target(), "--workflows", "6", "--concurrency", "3",
            "--warmup", "4", "--rounds", "2", "--client", "PERDURA_SDK", "--json", json.toString());

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains(", round 1", ", round 2").doesNotContain("round 3");
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("warm-up");
    JsonNode rounds = new ObjectMapper().readTree(json.toFile());
    assertThat(rounds.isArray()).isTrue();
    assertThat(rounds).hasSize(2);
    for (JsonNode round : rounds) {
      assertThat(round.get("workflows").asInt()).isEqualTo(6);
      assertThat(round.get("latency").get("count").asInt()).as("the warm-up is not counted").isEqualTo(6);
    }
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
      "throughput, --rounds, 0",
      "sequential, --warmup-until-jit-below, -1",
      "sequential, --warmup-limit, 0",
      "throughput, --warmup-until-jit-below, -1",
      "throughput, --server-pid, 0",
      "sequential, --server-pid, 0"})
  void aBadOptionIsRejectedByName(String command, String option, String value) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = benchCli(new ByteArrayOutputStream(), new ByteArrayOutputStream());
    cli.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
    int status = cli.execute(command, "--address", server.target(), option, value);

    assertThat(status).isNotZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(option);
  }

  @Test
  void sequentialWarmsUpUntilBothCompilersAreQuietAndSaysWhatTheServerUsed() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    // Any process is below 1000 %: two rounds of warm-up, then the measured workflow.
    int status = benchCli(out, progress)
        .execute("sequential", "--address", server.target(), "--activities", "5", "--warmup", "0",
            "--warmup-until-jit-below", "1000", "--client", "PERDURA_SDK",
            "--server-pid", Long.toString(ProcessHandle.current().pid()));

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(progress.toString(StandardCharsets.UTF_8))
        .containsPattern("warm-up round 2: JIT compiler busy client \\d+ %, server \\d+ % of it")
        .doesNotContain("warm-up round 3");
    assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("client JIT +compiler busy \\d+ % of the run")
        .containsPattern("server +CPU \\d+\\.\\d{3} ms/activity \\(\\d+\\.\\d{3} without the JIT compilers\\), JIT compiler busy \\d+ %");
  }

  @Test
  void throughputWatchesAServerOnThisMachineAndWarmsUpUntilBothCompilersAreQuiet() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Path json = dir.resolve("watched.json");
    // The server runs in this JVM, so this JVM's id is the server's.
    String pid = Long.toString(ProcessHandle.current().pid());
    int status = benchCli(out, progress)
        .execute("throughput", "--address", server.target(), "--workflows", "10", "--concurrency", "5",
            "--warmup-until-jit-below", "1000", "--server-pid", pid, "--client", "PERDURA_SDK", "--json",
            json.toString());

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(progress.toString(StandardCharsets.UTF_8))
        .containsPattern("warm-up round 2: JIT compiler busy client \\d+ %, server \\d+ % of it")
        .doesNotContain("warm-up round 3");
    assertThat(out.toString(StandardCharsets.UTF_8))
        .containsPattern("client CPU +\\d+\\.\\d{3} ms/workflow")
        .containsPattern("client JIT +compiler busy \\d+ % of the run")
        .containsPattern("server +CPU \\d+\\.\\d{3} ms/workflow \\(\\d+\\.\\d{3} without the JIT compilers\\), "
            + "JIT compiler busy \\d+ %, peak RSS \\d+ MB \\(pid " + pid + "\\)")
        .containsPattern("machine +a fixed loop took \\d+\\.\\d ms of CPU before the run, \\d+\\.\\d after");
    JsonNode watched = new ObjectMapper().readTree(json.toFile()).get("server");
    assertThat(watched.get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
    assertThat(watched.get("cpuMsPerUnit").asDouble()).as("ten workflows served in this process cost CPU").isPositive();
    assertThat(watched.get("cpuMsPerUnitWithoutCompiler").asDouble()).isNotNegative()
        .isLessThanOrEqualTo(watched.get("cpuMsPerUnit").asDouble());
    assertThat(watched.get("peakRssMb").asDouble()).isPositive();
  }

  @Test
  void storeCommitsWorkflowShapedRunsToAFileAndReportsTheirCost() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Path file = dir.resolve("store-bench.db");
    Path json = dir.resolve("store.json");
    int status = benchCli(out, progress).execute("store", "--db-file", file.toString(), "--changes", "500",
        "--batch", "4", "--in-flight", "10", "--warmup", "100", "--rounds", "2", "--json", json.toString());

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("warm-up: ").contains("round 2: ");
    assertThat(out.toString(StandardCharsets.UTF_8))
        .containsPattern("commit CPU +\\d+\\.\\d µs/change")
        .containsPattern("commit CPU median: \\d+\\.\\d µs/change");
    JsonNode rounds = new ObjectMapper().readTree(json.toFile());
    assertThat(rounds).hasSize(2);
    assertThat(rounds.get(0).get("changes").asInt()).isEqualTo(500);
    assertThat(rounds.get(0).get("cpuMicrosPerChange").asDouble()).isPositive();
    // 1100 changes of 5 per run, 10 in flight: at least 200 runs started, each closed run's history whole
    try (SqliteStore store = SqliteStore.open(file)) {
      List<ExecutionKey> closed = store.findClosedBefore("default", Long.MAX_VALUE, 1000);
      assertThat(closed).hasSizeGreaterThanOrEqualTo(200);
      assertThat(store.readEvents(closed.getFirst(), 1, 100)).extracting(EventRow::eventId)
          .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    }
  }

  @Test
  void storeRejectsABatchLargerThanTheRunsInFlight() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = benchCli(new ByteArrayOutputStream(), new ByteArrayOutputStream());
    cli.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
    int status = cli.execute("store", "--batch", "20", "--in-flight", "10");

    assertThat(status).isNotZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--batch").contains("--in-flight");
  }

  @Test
  void withoutAServerToWatchTheFiguresHaveNoServerPart() throws IOException {
    Path json = dir.resolve("unwatched.json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = benchCli(out, new ByteArrayOutputStream())
        .execute("sequential", "--address", server.target(), "--activities", "3", "--warmup", "0", "--client",
            "PERDURA_SDK", "--json", json.toString());

    assertThat(status).as("exit status; output:%n%s", out).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("server  ");
    assertThat(new ObjectMapper().readTree(json.toFile()).has("server")).isFalse();
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> clientsAndSteps() {
    return java.util.Arrays.stream(ClientKind.values()).flatMap(kind -> java.util.Arrays.stream(BenchClient.Step.values())
        .map(step -> org.junit.jupiter.params.provider.Arguments.of(kind, step)));
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("clientsAndSteps")
  void sequentialTimesEachStepBetweenActivities(ClientKind kind, BenchClient.Step step) {
    SequentialScenario.Result result;
    try (BenchClient client = kind.connect(server.target(), "default")) {
      result = SequentialScenario.run(client, 5, step, java.util.Optional.empty());
    }

    assertThat(result.activities()).isEqualTo(5);
    assertThat(result.kind()).isEqualTo(step);
    assertSensible(result.step(), 4);
    assertThat(result.totalMs()).isGreaterThan(result.firstActivityMs() + 4 * result.step().minMs());
    assertThat(result.meanPerActivityMs()).isCloseTo(result.totalMs() / 5, offset(1e-9));
  }

  @ParameterizedTest
  @EnumSource(ClientKind.class)
  void cancelMeasuresTheTimeUntilTheActivityLearnsOfIt(ClientKind kind) throws InterruptedException {
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    CancelScenario.Result result;
    try (BenchClient client = kind.connect(server.target(), "default")) {
      result = CancelScenario.run(client, Duration.ofSeconds(2), 2,
          new PrintStream(progress, true, StandardCharsets.UTF_8));
    }

    assertThat(result.heartbeatTimeoutMs()).isEqualTo(2000);
    assertThat(result.latency().count()).isEqualTo(2);
    assertThat(result.latency().minMs()).isGreaterThanOrEqualTo(0);
    assertThat(result.latency().p50Ms()).isLessThanOrEqualTo(result.latency().p99Ms());
    // the SDK sends a heartbeat every 0.8 x the heartbeat timeout (1.6 s); the rest is slack for a busy machine
    assertThat(result.latency().maxMs()).isLessThan(5000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    result.print(new PrintStream(out, true, StandardCharsets.UTF_8));
    assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("cancel latency p50: \\d+ ms \\(heartbeat timeout 2s\\)");
  }
}
