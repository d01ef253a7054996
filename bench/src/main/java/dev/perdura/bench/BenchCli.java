package dev.perdura.bench;

import ch.qos.logback.classic.Level;
import dev.perdura.bench.internal.Commands;
import java.io.PrintStream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./perdura bench ...}: load scenarios against a Temporal-API server, a comparison of
 * Perdura with the official Temporal test server, and the cost of the store's commits alone.
 *
 * <pre>{@code
 * ./perdura bench throughput --address 127.0.0.1:7233 --workflows 2000 --concurrency 100
 * ./perdura bench compare --workflows 2000 --rounds 3
 * ./perdura bench store --changes 100000 --batch 8
 * }</pre>
 *
 * Reports go to standard output, progress lines to standard error.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    version = "Perdura bench 0.1.0",
    description = "Load scenarios against a Temporal-API server; compare Perdura with the Temporal test server; "
        + "the cost of the store's commits alone.",
    subcommands = {Commands.Throughput.class, Commands.Sequential.class, Commands.Cancel.class, Commands.Compare.class,
        Commands.StoreWrites.class})
public final class BenchCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final PrintStream out;
  private final PrintStream progress;

  /** A command line printing reports to {@code out} and progress lines to {@code progress}. */
  public BenchCli(PrintStream out, PrintStream progress) {
    this.out = out;
    this.progress = progress;
  }

  /** Where reports go. */
  public PrintStream out() {
    return out;
  }

  /** Where progress lines go. */
  public PrintStream progress() {
    return progress;
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    // The clients in this process are measured too: as on the server, no leak detector.
    dev.perdura.server.cli.PerduraCli.disableNettyLeakDetectionUnlessSet();
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
    System.exit(new CommandLine(new BenchCli(System.out, System.err)).execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(out);
  }
}
