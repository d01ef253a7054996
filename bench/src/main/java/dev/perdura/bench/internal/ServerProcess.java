package dev.perdura.bench.internal;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server in a JVM of its own, started with this process's JDK and class path, with its CPU time
 * and peak resident memory read from {@code /proc}. Output goes to a log file.
 */
public final class ServerProcess implements AutoCloseable {
  static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  /** The servers this class knows how to start. */
  public enum Kind {
    /** {@code perdura server start-dev} on a SQLite file. */
    PERDURA("perdura"),
    /** The official Temporal test server ({@code io.temporal.testserver.TestServer PORT}), in memory. */
    TEST_SERVER("test-server");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The name used in reports. */
    public String label() {
      return label;
    }
  }

  private final Kind kind;
  private final int port;
  private final Path log;
  private final List<String> command;
  private final Process process;

  private ServerProcess(Kind kind, int port, Path log, List<String> command, Process process) {
    this.kind = kind;
    this.port = port;
    this.log = log;
    this.command = command;
    this.process = process;
  }

  /**
   * The JVM options the launcher gives the server, from the variables it exports: its flags for every
   * JVM ({@code PERDURA_JVM_FLAGS}), then the server's ({@code PERDURA_SERVER_JAVA_OPTS}). Options
   * given to the bench come after these and win.
   */
  static List<String> launcherOptions(Map<String, String> environment) {
    List<String> options = new ArrayList<>();
    String launcherFlags = environment.get("PERDURA_JVM_FLAGS");
    addOptions(options, launcherFlags == null ? "--enable-native-access=ALL-UNNAMED" : launcherFlags);
    addOptions(options, environment.getOrDefault("PERDURA_SERVER_JAVA_OPTS", ""));
    return options;
  }

  private static void addOptions(List<String> command, String options) {
    for (String option : options.trim().split("\\s+")) {
      if (!option.isEmpty()) {
        command.add(option);
      }
    }
  }

  /**
   * Starts a server of {@code kind} on a free port of 127.0.0.1 with its files (log, database) in
   * {@code dir}, and waits until its gRPC health service answers SERVING.
   */
  public static ServerProcess start(Kind kind, Path dir, List<String> jvmArgs) throws InterruptedException {
    int port = freePort();
    Path log = dir.resolve(kind.label() + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (kind == Kind.PERDURA) {
      command.addAll(launcherOptions(System.getenv()));
    }
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    if (kind == Kind.PERDURA) {
      command.addAll(List.of("dev.perdura.server.cli.PerduraCli", "server", "start-dev", "--ip", "127.0.0.1",
          "--port", Integer.toString(port), "--db-file", dir.resolve("perdura.db").toString()));
    } else {
      command.addAll(List.of("io.temporal.testserver.TestServer", Integer.toString(port)));
    }
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + kind.label(), e);
    }
    ServerProcess server = new ServerProcess(kind, port, log, command, process);
    try {
      server.awaitReady();
    } catch (RuntimeException | InterruptedException e) {
      server.close();
      throw e;
    }
    return server;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitReady() throws InterruptedException {
    WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(target()).build());
    try {
      long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
      RuntimeException last = null;
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(kind.label() + " exited with " + process.exitValue() + "; log:\n" + logText());
        }
        try {
          if (stubs.healthCheck().getStatus() == ServingStatus.SERVING) {
            return;
          }
        } catch (RuntimeException e) {
          last = e; // not listening yet
        }
        Thread.sleep(100);
      }
      throw new IllegalStateException(kind.label() + " not serving after " + READY_TIMEOUT + "; log:\n" + logText(), last);
    } finally {
      stubs.shutdownNow();
      stubs.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Which server this is. */
  public Kind kind() {
    return kind;
  }

  /** {@code 127.0.0.1:PORT}. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /** The command line that started it. */
  public List<String> command() {
    return List.copyOf(command);
  }

  /** The process id. */
  public long pid() {
    return process.pid();
  }

  /** The process, to read from {@code /proc} while it serves. */
  public WatchedServer watched() {
    checkAlive();
    return WatchedServer.of(pid());
  }

  /** The peak resident set size so far ({@code VmHWM}), in bytes. */
  public long peakRssBytes() {
    checkAlive();
    return ProcStats.peakRssBytes(pid());
  }

  private void checkAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException(kind.label() + " has exited with " + process.exitValue() + "; log:\n" + logText());
    }
  }

  /** The server's output so far. */
  public String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Freezes the process (SIGSTOP) until {@link #resume()}. While one server of a comparison is
   * measured, the other's own background work would take the cores from it: the test server kept
   * about a sixth of a core busy between its rounds, holding every workflow it had run.
   */
  public void pause() throws InterruptedException {
    signal("STOP");
  }

  /** Lets a paused process run again (SIGCONT); nothing for one that runs. */
  public void resume() throws InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws InterruptedException {
    checkAlive();
    Process kill;
    try {
      kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill -" + name + " for " + kind.label(), e);
    }
    if (!kill.waitFor(10, TimeUnit.SECONDS)) {
      kill.destroyForcibly();
      throw new IllegalStateException("kill -" + name + " " + pid() + " did not finish in 10 s");
    }
    if (kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + pid() + " failed with " + kill.exitValue() + ": "
          + new String(readAll(kill), StandardCharsets.UTF_8).strip());
    }
  }

  private static byte[] readAll(Process process) {
    try {
      return process.getInputStream().readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the process this object started (SIGTERM, then SIGKILL after 20 s), resuming it first if paused. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      resume(); // a stopped process would hold the SIGTERM until continued
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }
}
