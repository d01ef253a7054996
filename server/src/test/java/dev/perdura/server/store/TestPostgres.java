package dev.perdura.server.store;

import dev.perdura.server.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A private PostgreSQL server for the tests: a fresh cluster in a temporary directory, on a free
 * port of 127.0.0.1, started once per test JVM and stopped when it exits. Each caller gets a
 * database of its own. Needs PostgreSQL's server programs ({@code initdb}, {@code pg_ctl}) on the
 * PATH, under {@code /usr/lib/postgresql/<version>/bin}, or in {@code PERDURA_TEST_PG_BIN}; CI
 * installs them. As root, the cluster runs as the {@code postgres} user, since PostgreSQL refuses
 * to run as root.
 */
public final class TestPostgres {
  private static final String USER = "perdura";
  private static TestPostgres instance;

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final int port;
  private final boolean asPostgresUser;
  private final AtomicInteger databases = new AtomicInteger();

  private TestPostgres() {
    this.bin = findBin();
    this.asPostgresUser = "root".equals(System.getProperty("user.name"));
    this.port = freePort();
    try {
      this.dir = Files.createTempDirectory("perdura-pg-");
      this.data = dir.resolve("data");
      if (asPostgresUser) {
        UserPrincipal postgres =
            dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(dir, postgres);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "-A", "trust",
        "-E", "UTF8", "--locale=C", "--no-sync"));
    // Durability of the test database itself is not under test: the server under test is what
    // gets killed, never PostgreSQL.
    run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("postgres.log").toString(),
        "-w", "-t", "60", "-o",
        "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
            + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        "start"));
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(this::stop));
  }

  /** The cluster of this JVM, started on first use. */
  public static synchronized TestPostgres get() {
    if (instance == null) {
      instance = new TestPostgres();
    }
    return instance;
  }

  /** A new, empty database on the cluster. */
  public Storage.Postgres newDatabase(String purpose) {
    String name = "t" + databases.incrementAndGet() + "_" + purpose.toLowerCase().replaceAll("[^a-z0-9]", "");
    try (Connection c = DriverManager.getConnection(url("postgres"), USER, null);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return new Storage.Postgres(url(name), USER, null, 8);
  }

  private String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  private void stop() {
    try {
      run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        System.err.println("could not delete " + dir + ": " + e);
      }
    }
  }

  private void run(List<String> command) {
    List<String> full = new ArrayList<>();
    if (asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    try {
      Process process = new ProcessBuilder(full).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("commands.log").toFile()))
          .start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("timed out: " + full);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("failed with exit code " + process.exitValue() + ": " + full
            + "\n" + logs());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + full, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + full, e);
    }
  }

  private String logs() {
    StringBuilder text = new StringBuilder();
    for (String name : List.of("commands.log", "postgres.log")) {
      Path file = dir.resolve(name);
      try {
        if (Files.exists(file)) {
          text.append("--- ").append(name).append('\n').append(Files.readString(file));
        }
      } catch (IOException e) {
        text.append("(cannot read ").append(file).append(": ").append(e).append(")\n");
      }
    }
    return text.toString();
  }

  private static Path findBin() {
    String configured = System.getenv("PERDURA_TEST_PG_BIN");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    List<Path> candidates = new ArrayList<>();
    for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!entry.isEmpty()) {
        candidates.add(Path.of(entry));
      }
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        versions.sorted(Comparator.comparing((Path p) -> versionOf(p)).reversed())
            .forEach(v -> candidates.add(v.resolve("bin")));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + debian, e);
      }
    }
    for (Path candidate : candidates) {
      if (Files.isExecutable(candidate.resolve("initdb")) && Files.isExecutable(candidate.resolve("pg_ctl"))) {
        try {
          // Debian links initdb into the PATH; its siblings (postgres) live next to the target.
          return candidate.resolve("initdb").toRealPath().getParent();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot resolve " + candidate.resolve("initdb"), e);
        }
      }
    }
    throw new IllegalStateException("PostgreSQL's server programs (initdb, pg_ctl) are not installed:"
        + " the PostgreSQL store's tests need them (Debian: apt-get install postgresql), or set PERDURA_TEST_PG_BIN");
  }

  private static int versionOf(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
