package dev.perdura.samples;

import dev.perdura.client.PerduraClient;
import java.io.PrintStream;

/** One runnable program of the seed documents. */
public interface Sample {
  /** The name to run it by: {@code ./perdura sample NAME}. */
  String name();

  String description();

  /** Runs the sample against the client's server on its own task queue, printing what happens. */
  void run(PerduraClient client, String taskQueue, PrintStream out) throws Exception;
}
