package dev.perdura.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code perdura} command line, run by the {@code ./perdura} launcher.
 *
 * <pre>{@code
 * ./perdura server start-dev --port 7233 --db-file data/perdura.db
 * }</pre>
 */
@Command(
    name = "perdura",
    mixinStandardHelpOptions = true,
    version = "Perdura 0.1.0",
    description = "Durable execution for the JVM.",
    subcommands = {PerduraCli.Server.class})
public final class PerduraCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The shaded netty's switch for its buffer leak detector (the gRPC transport's own copy). */
  static final String NETTY_LEAK_DETECTION = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  public static void main(String[] args) {
    disableNettyLeakDetectionUnlessSet();
    System.exit(new CommandLine(new PerduraCli()).execute(args));
  }

  /**
   * For a process's entry point, before gRPC is used: turns off the leak detector of the netty
   * that gRPC carries, unless the property is set. The detector records a stack trace for one
   * buffer in 128 (one per five workflows on a server, one per four activity steps on a worker),
   * a cost on every call, for buffers that are gRPC's own.
   */
  public static void disableNettyLeakDetectionUnlessSet() {
    if (System.getProperty(NETTY_LEAK_DETECTION) == null) {
      System.setProperty(NETTY_LEAK_DETECTION, "disabled");
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code perdura server ...}: running a server. */
  @Command(
      name = "server",
      mixinStandardHelpOptions = true,
      description = "Run a Perdura server.",
      subcommands = {StartDev.class, Start.class})
  static final class Server implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(System.out);
    }
  }
}
