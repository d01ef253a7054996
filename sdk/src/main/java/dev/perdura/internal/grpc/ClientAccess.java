package dev.perdura.internal.grpc;

import dev.perdura.client.PerduraClient;
import java.util.function.Function;

/**
 * Lets the SDK's worker reach a client's connection without making it public API:
 * {@link PerduraClient} registers the accessor when its class initialises, which has happened
 * by the time anyone holds a client.
 */
public final class ClientAccess {
  private static volatile Function<PerduraClient, ServiceConnection> connection;

  private ClientAccess() {}

  public static void register(Function<PerduraClient, ServiceConnection> accessor) {
    connection = accessor;
  }

  public static ServiceConnection connection(PerduraClient client) {
    return connection.apply(client);
  }
}
