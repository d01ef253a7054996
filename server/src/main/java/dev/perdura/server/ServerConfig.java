package dev.perdura.server;

import java.nio.file.Path;
import java.util.List;

/**
 * How to run a Perdura server.
 *
 * @param host address to bind, e.g. {@code 127.0.0.1}
 * @param port TCP port; 0 picks a free one (see {@link PerduraServer#port()})
 * @param dbFile the SQLite file holding all data; {@code null} keeps everything in memory (lost
 *     at exit)
 * @param namespaces namespaces to create at start besides {@code default}
 */
public record ServerConfig(String host, int port, Path dbFile, List<String> namespaces) {
  public ServerConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, was " + port);
    }
    namespaces = List.copyOf(namespaces);
  }
}
