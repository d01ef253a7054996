package dev.perdura.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.perdura.bench.internal.Commands.ClientKind;
import dev.perdura.bench.internal.CompareScenario;
import dev.perdura.bench.internal.JitWarmup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench compare}, tiny: both servers as processes, one round each, figures in the report and the JSON. */
@Timeout(120)
class CompareSmokeTest {
  @TempDir Path dir;

  @Test
  void comparesBothServersAndStopsThem() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Path json = dir.resolve("compare.json");
    int status = new CommandLine(new BenchCli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(progress, true, StandardCharsets.UTF_8)))
        .execute("compare", "--workflows", "20", "--rounds", "1", "--warmup", "0", "--concurrency", "10",
            "--warmup-until-jit-below", "1000", "--json", json.toString());

    String report = out.toString(StandardCharsets.UTF_8);
    assertThat(status).as("exit status; output:%n%s%n%s", report, progress).isZero();
    assertThat(report).containsPattern("throughput ratio perdura/test-server: \\d+\\.\\d\\d")
        .contains("warm-up 0 then until the JIT compilers were below 1000 %")
        .containsPattern("perdura +\\[\\d+\\.\\d wf/s, \\d+\\.\\d{3} CPU ms/wf, \\d+\\.\\d{3} w/o JIT, JIT \\d+ %, loop \\d+/\\d+ ms\\]");
    // Any JVM is below 1000 %: each server is warmed by two rounds, watching its compiler and the bench's.
    assertThat(Pattern.compile("warm-up round 2: JIT compiler busy client \\d+ %, server \\d+ % of it")
        .matcher(progress.toString(StandardCharsets.UTF_8)).results()).hasSize(2);
    JsonNode servers = new ObjectMapper().readTree(json.toFile()).get("servers");
    assertThat(servers).hasSize(2);
    assertThat(servers.get(0).get("server").asText()).isEqualTo("perdura");
    assertThat(servers.get(1).get("server").asText()).isEqualTo("test-server");
    for (JsonNode server : servers) {
      assertThat(server.get("runs")).hasSize(1);
      assertThat(server.get("runs").get(0).get("latency").get("count").asInt()).isEqualTo(20);
      assertThat(server.get("medianWorkflowsPerSecond").asDouble()).isPositive();
      assertThat(server.get("medianP50Ms").asDouble()).isPositive()
          .isLessThanOrEqualTo(server.get("medianP99Ms").asDouble());
      assertThat(server.get("medianCpuMsPerWorkflow").asDouble()).isPositive();
      assertThat(server.get("peakRssMb").asDouble()).isPositive();
      assertThat(server.get("runs").get(0).get("server").get("cpuMsPerUnit").asDouble())
          .isEqualTo(server.get("cpuMsPerWorkflow").get(0).asDouble());
      assertThat(server.get("runs").get(0).get("loopCpuMsBefore").asDouble()).isPositive();
      assertThat(server.get("runs").get(0).get("loopCpuMsAfter").asDouble()).isPositive();
      assertThat(server.get("runs").get(0).get("server").get("cpuMsPerUnitWithoutCompiler").asDouble())
          .isEqualTo(server.get("cpuMsPerWorkflowWithoutCompiler").get(0).asDouble())
          .isEqualTo(server.get("medianCpuMsPerWorkflowWithoutCompiler").asDouble())
          .isLessThanOrEqualTo(server.get("medianCpuMsPerWorkflow").asDouble());
    }
    Matcher pids = Pattern.compile("\\(pid (\\d+)\\)").matcher(progress.toString(StandardCharsets.UTF_8));
    int stopped = 0;
    while (pids.find()) {
      long pid = Long.parseLong(pids.group(1));
      assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("server process %d", pid).isEmpty();
      stopped++;
    }
    assertThat(stopped).isEqualTo(2);
  }

  @Test
  void eachWarmUpRoundUntilTheCompilersAreQuietHasAClientOfItsOwnAsEachMeasuredRoundHas() throws InterruptedException {
    ConcurrentHashMap<String, AtomicInteger> clientsByServer = new ConcurrentHashMap<>();
    AtomicInteger closed = new AtomicInteger();
    // Any JVM is below 1000 %: two warm-up rounds per server, then one measured round.
    CompareScenario.Options options = new CompareScenario.Options(5, 5, 1, 0, new JitWarmup.Bound(1000, 60),
        List.of(), List.of());
    List<Long> stoppedWhenConnecting = new CopyOnWriteArrayList<>();
    CompareScenario.run(options, target -> {
      clientsByServer.computeIfAbsent(target, t -> new AtomicInteger()).incrementAndGet();
      stoppedWhenConnecting.add(ProcessHandle.current().children().filter(c -> stopped(c.pid())).count());
      BenchClient client = ClientKind.TEMPORAL_SDK.connect(target, "default");
      return new BenchClient() {
        @Override
        public String name() {
          return client.name();
        }

        @Override
        public void runWorkflow(String workflowId, int activities, Step step) {
          client.runWorkflow(workflowId, activities, step);
        }

        @Override
        public SequenceTiming runTimedWorkflow(String workflowId, int activities, Step step) {
          return client.runTimedWorkflow(workflowId, activities, step);
        }

        @Override
        public CancelTiming runCancellation(String workflowId, java.time.Duration heartbeatTimeout,
            java.time.Duration delayBeforeCancel) {
          return client.runCancellation(workflowId, heartbeatTimeout, delayBeforeCancel);
        }

        @Override
        public void close() {
          closed.incrementAndGet();
          client.close();
        }
      };
    }, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(clientsByServer).hasSize(2);
    // Whichever server a client is for, the other one is paused meanwhile.
    assertThat(stoppedWhenConnecting).hasSize(6).containsOnly(1L);
    assertThat(clientsByServer.values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(3));
    assertThat(closed.get()).isEqualTo(6);
  }

  /** Whether the process is stopped by a signal (state T in {@code /proc/PID/stat}). */
  private static boolean stopped(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
