package dev.perdura.samples;

import ch.qos.logback.classic.Level;
import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import dev.perdura.server.PerduraServer;
import dev.perdura.server.ServerConfig;
import dev.perdura.server.Storage;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./perdura sample NAME}: runs one of the seed documents' programs. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = "Run a sample against a Perdura server (an embedded in-memory one when no --address is given).")
public final class SamplesCli implements Callable<Integer> {
  static final List<Sample> SAMPLES = List.of(
      new CancellationSample(), new DynamicActivitySample(), new AsyncCompletionSample(), new ShieldSample(),
      new TrackedActivitySample(), new LocalActivitySample(), new WorkerShutdownSample(), new MonitoringSample(),
      new LoggingSample());

  @Parameters(arity = "0..1", paramLabel = "NAME", description = "The sample to run; see --list.")
  String name;

  @Option(names = "--list", description = "List the samples.")
  boolean list;

  @Option(names = "--address", paramLabel = "HOST:PORT", description = "A running server to use.")
  String address;

  @Option(names = "--namespace", defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  private final PrintStream out;

  SamplesCli(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
    System.exit(new CommandLine(new SamplesCli(System.out)).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (list || name == null) {
      SAMPLES.forEach(s -> out.printf("%-18s %s%n", s.name(), s.description()));
      return list ? 0 : 2;
    }
    Sample sample = SAMPLES.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    if (sample == null) {
      out.println("unknown sample '" + name + "'; run with --list to see them");
      return 2;
    }
    PerduraServer embedded = null;
    String target = address;
    if (target == null) {
      embedded = PerduraServer.start(new ServerConfig("127.0.0.1", 0, Storage.inMemory(), List.of()));
      target = embedded.target();
      out.println("(embedded Perdura server on " + target + ")");
    }
    try (PerduraClient client = PerduraClient.connect(ClientOptions.target(target).withNamespace(namespace))) {
      sample.run(client, "sample-" + sample.name() + "-" + UUID.randomUUID(), out);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
    return 0;
  }
}
